"""Run blocking library work in a worker thread and stream its progress back to the event loop.

The libraries report progress by calling a function from their own thread (a rollout snapshot, a
deletion step, an engine step). `in_thread` gives them a thread-safe `report` and delivers every
item, in order, to an async `on_progress` on the loop: the one hand-off from thread to loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from actions.errors import translated

P = TypeVar("P")
T = TypeVar("T")
A = ParamSpec("A")

log = logging.getLogger(__name__)

_DONE = object()  # the end of the progress stream


async def call(fn: Callable[A, T], *args: A.args, **kwargs: A.kwargs) -> T:
    """Run a blocking library call off the loop; its library error becomes the user's one line."""
    async with translated():
        return await asyncio.to_thread(fn, *args, **kwargs)


async def in_thread(
    work: Callable[[Callable[[P], None]], T],
    on_progress: Callable[[P], Awaitable[None]] | None = None,
) -> T:
    """`work(report)` in a worker thread; each `report(p)` reaches `on_progress(p)` on the loop.

    Progress arrives in the order reported, and all of it has been delivered when this returns or
    raises. An `on_progress` that fails is logged and skipped: showing progress never stops the work.
    Exceptions from `work` propagate unchanged.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()

    def report(item: P) -> None:
        if on_progress is None:
            return
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop has closed: nobody is left to show progress to
            pass

    if on_progress is None:
        return await asyncio.to_thread(work, report)
    deliverer = asyncio.ensure_future(_deliver(queue, on_progress))
    try:
        result = await asyncio.to_thread(work, report)
    except asyncio.CancelledError:
        deliverer.cancel()  # the caller has gone: nobody waits for the rest of the progress
        raise
    except BaseException:
        await _drain(queue, deliverer)
        raise
    await _drain(queue, deliverer)
    return result


async def _drain(queue: asyncio.Queue[object], deliverer: asyncio.Future[None]) -> None:
    """Deliver what is still queued. The thread's reports were scheduled on the loop before its
    result was, so they are all in the queue already: the end marker goes after the last of them."""
    queue.put_nowait(_DONE)
    await deliverer


async def _deliver(queue: asyncio.Queue[object], on_progress: Callable[[P], Awaitable[None]]) -> None:
    """Hand each reported item to on_progress, one at a time, until the end marker."""
    while (item := await queue.get()) is not _DONE:
        try:
            await on_progress(item)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - a failed progress update must not stop the work
            log.warning("progress update failed", exc_info=True)

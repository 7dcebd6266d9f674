"""Eager start on Python 3.11: a coroutine run here and now up to its first wait, the rest as a task.

The delivery ledger's done-mark must leave in the very step its reply does (`bot.db.Database.start_commit`):
Python 3.12 has `asyncio.Task(..., eager_start=True)` for this; 3.11 needs `started_now`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def started_now(coro: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
    """Run `coro` here and now up to its first wait, and the rest as a task: what Python 3.12's
    eager tasks do (`asyncio.Task(..., eager_start=True)`), on 3.11."""
    loop = asyncio.get_running_loop()
    try:
        waiting = coro.send(None)
    except StopIteration as stop:
        done: asyncio.Future[T] = loop.create_future()
        done.set_result(stop.value)
        return done
    except Exception as exc:  # noqa: BLE001 - the caller hears of it through the future
        failed: asyncio.Future[T] = loop.create_future()
        failed.set_exception(exc)
        return failed
    return loop.create_task(_go_on(_Suspended(coro, waiting)))


class _Suspended(Generic[T]):
    """A coroutine stopped at its first wait. Awaited, it waits for what the coroutine waits for,
    then resumes it; cancelled meanwhile, it cancels that wait, and the coroutine finds out there."""

    def __init__(self, coro: Coroutine[Any, Any, T], waiting: Any):
        self._coro, self._waiting = coro, waiting

    def __await__(self) -> Generator[Any, None, T]:
        try:
            yield self._waiting  # a future (or None: a bare yield to the loop), as the coroutine yielded
        except BaseException:  # noqa: BLE001 - cancelled: the coroutine sees it where it waits
            if isinstance(self._waiting, asyncio.Future):
                self._waiting.cancel()
        return (yield from self._coro.__await__())


async def _go_on(suspended: _Suspended[T]) -> T:
    return await suspended

"""In-flight turns and the background work they start, so SIGTERM can drain them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TurnTracker:
    """Counts running turns and tracks background tasks; `drain()` waits for both to finish."""

    def __init__(self) -> None:
        self._turns = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.accepting = True

    @property
    def busy(self) -> int:
        return self._turns + len(self._tasks)

    def turn_started(self) -> None:
        self._turns += 1
        self._idle.clear()

    def turn_finished(self) -> None:
        self._turns -= 1
        self._maybe_idle()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run work that outlives the turn (following a rollout); a drain waits for it too."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception(), extra={"task": task.get_name()})
        self._maybe_idle()

    def _maybe_idle(self) -> None:
        if self._turns == 0 and not self._tasks:
            self._idle.set()

    async def idle(self) -> None:
        await self._idle.wait()

    async def drain(self, timeout: float) -> bool:
        """Stop accepting, wait up to `timeout` for in-flight work; cancel what remains."""
        self.accepting = False
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            for task in list(self._tasks):
                task.cancel()
            log.warning("drain timed out", extra={"in_flight": self.busy})
            return False

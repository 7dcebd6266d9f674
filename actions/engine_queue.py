"""At most N k8orization engine runs at once in one app; the others wait in line, first come first served.

Each waiter hears its place in line (1 = next) when it joins and again whenever it moves up, so the
progress message can say "2nd in line". Leaving the line (a cancelled job) moves the others up too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

OnPlace = Callable[[int], Awaitable[None]]


class EngineQueue:
    """A counting slot with a visible line: `async with queue.slot(on_place): ...`."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("an engine queue runs at least one job at a time")
        self.limit = limit
        self._running = 0
        self._line: list[object] = []
        self._changed = asyncio.Condition()

    @property
    def waiting(self) -> int:
        return len(self._line)

    @asynccontextmanager
    async def slot(self, on_place: OnPlace) -> AsyncIterator[None]:
        """Wait for a free slot (telling on_place where this run stands), hold it for the block."""
        ticket = object()
        async with self._changed:
            self._line.append(ticket)
        try:
            await self._wait_turn(ticket, on_place)
        except BaseException:
            await self._leave(ticket)
            raise
        try:
            yield
        finally:
            async with self._changed:
                self._running -= 1
                self._changed.notify_all()

    async def _wait_turn(self, ticket: object, on_place: OnPlace) -> None:
        shown = 0
        while True:
            async with self._changed:
                if self._running < self.limit and self._line[0] is ticket:
                    self._line.pop(0)
                    self._running += 1
                    self._changed.notify_all()  # the next in line moved up
                    return
                place = self._line.index(ticket) + 1
                if place == shown:
                    await self._changed.wait()
                    continue
            shown = place
            await on_place(place)  # outside the lock: a chat edit must not hold up the line

    async def _leave(self, ticket: object) -> None:
        async with self._changed:
            if ticket in self._line:
                self._line.remove(ticket)
            self._changed.notify_all()


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st…"""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"

"""A clock a test sets and moves: `FakeClock()` reads like a machine booted three seconds ago.

Pass it wherever k8or takes a `clock.Clock` (caches, token refreshers, deadlines); `advance()` moves
the monotonic and the wall clock together, so a TTL runs out without the test sleeping.
"""

from __future__ import annotations

import datetime as dt

JUST_BOOTED = 3.0  # seconds of monotonic time: what time.monotonic() reads right after boot
EPOCH = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


class FakeClock:
    """A `clock.Clock` that moves only when told; monotonic starts at `JUST_BOOTED` by default."""

    def __init__(self, monotonic: float = JUST_BOOTED, now: dt.datetime = EPOCH) -> None:
        self._monotonic = monotonic
        self._now = now

    def monotonic(self) -> float:
        return self._monotonic

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by `seconds`."""
        self._monotonic += seconds
        self._now += dt.timedelta(seconds=seconds)

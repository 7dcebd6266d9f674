"""The clock every TTL, cache and deadline reads: one seam, so a test can set it to any moment.

`time.monotonic()` counts from boot on Linux: on a machine booted seconds ago it reads a few
seconds. A cache that stored `0.0` for "never fetched" and compared it with the monotonic clock
therefore believed, for its whole TTL after boot, that it had fetched at boot; the EKS token went
unminted for 14 minutes and replies went out with an empty bearer. So a cache keeps `None` until
its first fetch and asks `fresh()`; and everything reads the time through a `Clock`, so tests run
with `testing.clock.FakeClock` reading 3.0 (a machine just booted).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    """The two clocks k8or reads: monotonic seconds for intervals, aware UTC for wall time."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin (boot, on Linux); only differences mean anything."""
        ...

    def now(self) -> dt.datetime:
        """The wall-clock time, timezone-aware UTC."""
        ...


class SystemClock:
    """The real clocks: `time.monotonic()` and `datetime.now(UTC)`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


SYSTEM_CLOCK: Clock = SystemClock()


def fresh(clock: Clock, since: float | None, seconds: float) -> bool:
    """True when a monotonic reading `since` is less than `seconds` old; never when it is `None`."""
    return since is not None and clock.monotonic() - since < seconds


def expired(clock: Clock, deadline: float) -> bool:
    """True once the monotonic clock has reached `deadline` (a reading plus a timeout)."""
    return clock.monotonic() >= deadline


__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock", "expired", "fresh"]

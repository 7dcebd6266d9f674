"""The fake's sense of time: real time, but deadlines and back-offs run `speed` times faster."""

from __future__ import annotations

import time


class FakeClock:
    """`elapsed(since)` is fake seconds since a monotonic instant: real seconds times `speed`."""

    def __init__(self, speed: float = 1.0):
        self.speed = speed

    def mono(self) -> float:
        return time.monotonic()

    def elapsed(self, since: float) -> float:
        return (time.monotonic() - since) * self.speed

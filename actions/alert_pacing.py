"""How fast a conversation gets new alerts: a token bucket per conversation (a burst, then a refill
rate), on the caller's monotonic clock (`actions.alerting.AlertDesk.clock`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenBucket:
    """`burst` tokens at first, `refill` more per second; `take` spends one if there is one."""

    burst: float
    refill: float
    tokens: float | None = None  # full at first
    at: float = 0.0

    def take(self, now: float) -> bool:
        filled = self.burst if self.tokens is None else self.tokens + (now - self.at) * self.refill
        self.tokens, self.at = min(self.burst, filled), now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

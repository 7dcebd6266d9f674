"""How long each turn was exposed to a duplicate: from the channel counting its reply to its ledger
row being recorded done (0 when the done-mark came first).

A replica killed inside that window has answered a turn that its ledger still shows as running, so
the redelivery runs it again and the channel gets a second reply. Summed over a run and divided by
its wall time, the windows of one replica's turns are the number of turns that a SIGKILL at a random
moment of the run catches inside their window: the duplicates such a kill makes, on average. The
channel's clock (`Recorder.first_answer_wall`) and the ledger's `done_at` are both this machine's
wall clock; `done_at` is read as the mark is begun, a fraction of a millisecond before it leaves.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import asyncpg

from bench.ha.channel import Recorder
from bench.ha.replicas import PG_DSN
from bench.results import median, percentile

CHANNEL = "emulator"  # the load's channel id: the ledger key is "emulator|<conversation>|<activity>"


@dataclass(frozen=True)
class Exposure:
    """The windows of a run's turns, in seconds, and what they add up to."""

    windows: tuple[float, ...]  # per turn answered and recorded done: done_at - counted (signed)
    expected_duplicates: float  # for a SIGKILL of one replica at a random moment (the more exposed)

    @property
    def median_ms(self) -> float:
        return median([max(w, 0.0) for w in self.windows]) * 1000 if self.windows else 0.0

    @property
    def p99_ms(self) -> float:
        return percentile([max(w, 0.0) for w in self.windows], 99) * 1000 if self.windows else 0.0

    @property
    def marked_first(self) -> int:
        """Turns whose done-mark was begun before the channel counted their reply."""
        return sum(1 for w in self.windows if w <= 0)


async def done_marks(schema: str) -> dict[str, tuple[str, float]]:
    """Each activity of the load the ledger records done: its owner and when (epoch seconds)."""
    conn = await asyncpg.connect(PG_DSN)
    try:
        query = f'SELECT key, owner, done_at FROM "{schema}".processed_activities WHERE key LIKE $1'
        rows = await conn.fetch(query, f"{CHANNEL}|%")
    finally:
        await conn.close()
    return {
        row["key"].rsplit("|", 1)[1]: (row["owner"], row["done_at"].timestamp())
        for row in rows
        if row["done_at"] is not None
    }


def exposure(
    recorder: Recorder, activity_ids: list[str], marks: dict[str, tuple[str, float]], seconds: float
) -> Exposure:
    """The windows of the turns answered once and recorded done, and the duplicates a kill would make."""
    windows: list[float] = []
    by_owner: dict[str, float] = defaultdict(float)
    for activity_id in activity_ids:
        mark, answered = marks.get(activity_id), recorder.first_answer_wall.get(activity_id)
        if mark is None or answered is None or recorder.answers[activity_id] != 1:
            continue
        owner, done_at = mark
        windows.append(done_at - answered)
        by_owner[owner] += max(done_at - answered, 0.0)
    expected = max(by_owner.values(), default=0.0) / seconds if seconds > 0 else 0.0
    return Exposure(tuple(windows), expected)

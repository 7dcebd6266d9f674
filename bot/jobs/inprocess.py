"""Jobs in this process (SQLite, one replica): the handler runs on the turn's own context as a
background task the drain on SIGTERM waits for. Nothing outlives the process."""

from __future__ import annotations

from bot.jobs import JobHandler, JobRecord, JobRun
from bot.tracker import TurnTracker


class InProcessQueue:
    """The in-process runner behind the `JobQueue` seam."""

    def __init__(self, tracker: TurnTracker) -> None:
        self._tracker = tracker

    async def submit(self, record: JobRecord, run: JobRun, handler: JobHandler) -> None:
        name = f"{record.command}:{record.correlation_id}:{record.kind}"
        self._tracker.spawn(handler(run), name=name)

"""Pipeline steps and their status, reported to the progress callback and drawn in the picture."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict

STEPS = (
    "analyze",
    "install",
    "trace",
    "trim",
    "seccomp",
    "dockerfile",
    "build image",  # build and push run in the background alongside the two verify steps
    "push",
    "verify trimmed",
    "verify enforced",
    "manifests",
    "verify under runc",
    "verify under runsc",
    "checks",
    "report",
)

OK, FAILED, SKIPPED, WARN, RUNNING = "ok", "failed", "skipped", "warn", "running"

Progress = Callable[[str, str], None]
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """How one step went, in the step log's words: a status and a one-line detail."""

    status: str
    detail: str

    @classmethod
    def ok(cls, detail: str) -> Verdict:
        return cls(OK, detail)

    @classmethod
    def ok_if(cls, passed: bool, detail: str, otherwise: str = FAILED) -> Verdict:
        """OK when `passed`, else `otherwise` (FAILED, or WARN for a finding that is not fatal)."""
        return cls(OK if passed else otherwise, detail)


class StepEntry(TypedDict):
    """One line of report.json's `steps`."""

    step: str
    status: str
    detail: str
    seconds: float


@dataclass
class StepLog:
    """Status, detail and duration of every step, in order."""

    progress: Progress | None = None
    entries: dict[str, StepEntry] = field(default_factory=dict)
    _started: dict[str, float] = field(default_factory=dict)

    def start(self, step: str) -> None:
        self._started[step] = time.monotonic()
        self._emit(step, RUNNING)

    def finish(self, step: str, status: str, detail: str = "") -> None:
        seconds = time.monotonic() - self._started.get(step, time.monotonic())
        self.entries[step] = StepEntry(step=step, status=status, detail=detail, seconds=round(seconds, 2))
        self._emit(step, status)

    def skip(self, step: str, detail: str) -> None:
        self.entries[step] = StepEntry(step=step, status=SKIPPED, detail=detail, seconds=0.0)
        self._emit(step, SKIPPED)

    def _emit(self, step: str, status: str) -> None:
        if not self.progress:
            return
        try:
            self.progress(step, status)
        except Exception:  # a broken progress display must not break the k8orization itself
            _log.exception("progress callback failed for %s/%s", step, status)

    def as_list(self) -> list[StepEntry]:
        return [self.entries[s] for s in STEPS if s in self.entries]

"""The k8orize progress message: a headline and one line per step, edited in place as steps change.

Step changes arrive faster than a chat message can be edited; `LiveBoard` applies each at once and
coalesces whatever arrives while an edit is in flight into the next edit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

ICONS = {"running": "…", "ok": "✓", "warn": "⚠", "failed": "✗", "skipped": "–"}
PENDING = "·"
log = logging.getLogger(__name__)


class EditableMessage(Protocol):
    async def update(self, text: str) -> None: ...


@dataclass
class StepBoard:
    """The progress message: a headline and one line per step, rendered fresh for every edit."""

    headline: str
    steps: tuple[str, ...]
    status: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def apply(self, changes: Iterable[tuple[str, str]]) -> None:
        for step, status in changes:
            self.status[step] = status

    def fail_running(self) -> None:
        """Whatever was in flight when the run stopped is what failed."""
        self.apply((step, "failed") for step, status in list(self.status.items()) if status == "running")

    @property
    def any_failed(self) -> bool:
        return "failed" in self.status.values()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def text(self) -> str:
        lines = [f"- {ICONS.get(self.status.get(step, ''), PENDING)} {step}" for step in self.steps]
        return "\n".join([self.headline, *lines])


class LiveBoard:
    """A StepBoard shown in one message: one edit per batch of changes, never two edits at once."""

    def __init__(self, board: StepBoard, message: EditableMessage) -> None:
        self.board, self.message = board, message
        self._dirty = False
        self._editing: asyncio.Task[None] | None = None

    async def show(self, change: tuple[str, str]) -> None:
        """Apply a step change; the edit that shows it runs once the caller yields to the loop."""
        self.board.apply([change])
        self._dirty = True
        if self._editing is None or self._editing.done():
            self._editing = asyncio.ensure_future(self._edit())

    async def say(self, text: str) -> None:
        """Replace the whole message for a moment (waiting for the engine, say)."""
        await self.flush()
        await self.message.update(text)

    async def headline(self, text: str, *, fail_running: bool = False) -> None:
        """A new headline (finished, stopped), shown at once with every change so far."""
        await self.flush()
        if fail_running:
            self.board.fail_running()
        self.board.headline = text
        await self.message.update(self.board.text())

    async def flush(self) -> None:
        """Wait until every change applied so far is on screen."""
        if self._editing is not None:
            await self._editing

    async def _edit(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                await self.message.update(self.board.text())
            except Exception:  # noqa: BLE001 - a failed progress edit must not stop the k8orization
                log.warning("progress edit failed", exc_info=True)

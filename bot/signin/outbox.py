"""Sign-in outcomes for a terminal that another process serves the pages for.

`k8or chat` serves its own sign-in pages unless `k8or serve` already listens on the port; then the
person signs in on `serve`'s pages, and `serve` has no way to write to that terminal (its console
conversation's address is `console://local`, not a URL). So `serve` leaves the outcome here, in the
database both processes share, and the terminal collects it every second. Old outcomes (past the
5 minutes a held sign-in waits for its code) are dropped unread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from bot.db import Database
from bot.errors import StateConflict
from bot.storage import SqlStorage

CONSOLE_PREFIX = "console:"
KEY_PREFIX = "k8or-signin-outbox/"
KEEP = dt.timedelta(minutes=5)


def for_terminal(person: str) -> bool:
    """Whether `person` is someone at a `k8or chat` terminal (only the console edge makes such keys)."""
    return person.startswith(CONSOLE_PREFIX)


class SignInOutbox:
    """Messages waiting for one person's terminal, in the shared state table (read uncached)."""

    def __init__(self, db: Database) -> None:
        self._storage = SqlStorage(db, cache=False)

    async def put(self, person: str, text: str) -> None:
        now = dt.datetime.now(dt.UTC)
        await self._change(person, lambda kept: [*_fresh(kept, now), {"at": now.isoformat(), "text": text}])

    async def take(self, person: str) -> list[str]:
        """The messages waiting for `person`, oldest first; each is taken once."""
        taken: list[str] = []

        def empty(kept: list[dict[str, str]]) -> list[dict[str, str]] | None:
            taken[:] = [m["text"] for m in _fresh(kept, dt.datetime.now(dt.UTC))]
            return [] if kept else None

        await self._change(person, empty)
        return taken

    async def _change(self, person: str, change: Callable[[list[Any]], list[Any] | None]) -> None:
        """Read, change and write back under the stored eTag; None from `change` writes nothing."""
        key = KEY_PREFIX + person
        for _attempt in range(5):
            item = (await self._storage.read([key])).get(key) or {"messages": [], "e_tag": "*"}
            changed = change(list(item.get("messages") or []))
            if changed is None:
                return
            item["messages"] = changed
            try:
                await self._storage.write({key: item})
                return
            except StateConflict:
                continue  # the other process wrote in between: read again


def _fresh(messages: list[dict[str, str]], now: dt.datetime) -> list[dict[str, str]]:
    return [m for m in messages if now - dt.datetime.fromisoformat(m["at"]) <= KEEP]

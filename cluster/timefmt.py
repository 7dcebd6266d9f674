"""Ages as kubectl shows them: 45s, 12m, 3h, 5d."""

from __future__ import annotations

import datetime as dt


def age(since: dt.datetime | str | None, now: dt.datetime | None = None) -> str:
    """A short age; '?' when the timestamp is missing."""
    if since is None:
        return "?"
    if isinstance(since, str):
        since = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
    now = now or dt.datetime.now(dt.UTC)
    seconds = max(int((now - since).total_seconds()), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "d" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"

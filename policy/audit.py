"""An append-only audit trail of every command attempt, refusals included, with no secrets.

The app hands over its database (one engine per process). This module declares its table, which the
app's one MetaData (`bot.schema`) holds a copy of and its migrations create; here it is only ever
inserted into and read.
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sqlalchemy import (
    Column,
    CursorResult,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)

from redaction import scrub

# ok/refused/failed/cancelled, plus the finer outcomes the turn pipeline reports. A destructive
# action is recorded when asked (confirmation_requested) and at each decision on it: approved,
# refused (detail says why), cancelled or expired, with the requester as actor and the approver.
OUTCOMES = (
    "ok",
    "refused",
    "failed",
    "cancelled",
    "timeout",
    "error",
    "needs_login",
    "confirmation_requested",
    "approved",
    "expired",
)

# The outcomes that say a command's handler ran, so it may have acted: a turn retaken after its
# replica died looks for one of these under its activity id before running the command again.
# `approved` is not one of them: the approval is written before the handler runs.
HANDLER_OUTCOMES = ("ok", "failed", "timeout", "error")


@dataclass(frozen=True)
class AuditEntry:
    """One attempt: who (the requester), what, where, outcome, when, who approved it (for a
    confirmed action) and the turn's correlation id."""

    actor_id: str
    command: str
    outcome: str
    actor_name: str = ""
    channel: str = ""
    cluster: str = ""
    namespace: str = ""
    app: str = ""
    detail: str = ""
    correlation_id: str = ""
    line_text: str = ""
    approver_id: str = ""
    activity_id: str = ""
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    id: int | None = None

    @property
    def line(self) -> str:
        where = "/".join(x for x in (self.cluster, self.namespace, self.app) if x) or "-"
        who = self.actor_name or self.actor_id
        by = f" by {self.approver_id}" if self.approver_id and self.approver_id != self.actor_id else ""
        tail = f" — {self.detail}" if self.detail else ""
        return f"{self.at:%Y-%m-%d %H:%M:%S}Z {who}: {self.command} @ {where}: {self.outcome}{by}{tail}"


CLUSTER_AUDIT = Table(
    "k8or_cluster_audit",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor_id", String(255), nullable=False),
    Column("actor_name", String(255), nullable=False, default=""),
    Column("channel", String(64), nullable=False, default=""),
    Column("command", String(255), nullable=False),
    Column("cluster", String(255), nullable=False, default=""),
    Column("namespace", String(63), nullable=False, default=""),
    Column("app", String(253), nullable=False, default=""),
    Column("outcome", String(32), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("correlation_id", String(64), nullable=False, default="", index=True),
    Column("line_text", Text, nullable=False, default=""),
    Column("approver_id", String(255), nullable=False, default=""),
    # The delivery key of the turn that wrote the entry: a redelivered turn does not act twice.
    Column("activity_id", String(512), nullable=False, default="", server_default="", index=True),
)


_LIMITS = {
    "actor_id": 255,
    "actor_name": 255,
    "channel": 64,
    "command": 255,
    "cluster": 255,
    "namespace": 63,
    "app": 253,
    "correlation_id": 64,
    "detail": 4000,
    "line_text": 2000,
    "approver_id": 255,
    "activity_id": 512,
}


class Statements(Protocol):
    """One open transaction: the part of SQLAlchemy's connection the audit log uses."""

    async def execute(self, statement: Any, parameters: Any = None) -> CursorResult[*tuple[Any, ...]]: ...


class Transactions(Protocol):
    """Where the audit log's statements run: the app's database (`bot.db.Database`)."""

    def begin(self) -> AbstractAsyncContextManager[Statements]: ...


class AuditLog:
    """Insert and read audit entries; there is deliberately no update and no delete."""

    def __init__(self, db: Transactions):
        self._db = db
        self.table = CLUSTER_AUDIT

    async def record(self, entry: AuditEntry) -> AuditEntry:
        """Append one entry (scrubbed); returns it with its id."""
        if entry.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {entry.outcome!r}")
        values = {name: scrub(getattr(entry, name))[:limit] for name, limit in _LIMITS.items()}
        at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=dt.UTC)
        async with self._db.begin() as conn:
            result = await conn.execute(insert(self.table).values(at=at, outcome=entry.outcome, **values))
            inserted = result.inserted_primary_key
            new_id = inserted[0] if inserted is not None else None
        return replace(entry, id=new_id, at=at, **values)

    async def append(self, entry: dict[str, Any]) -> None:
        """The turn pipeline's AuditSink: its entry dict, stored as an AuditEntry."""
        await self.record(
            AuditEntry(
                actor_id=entry.get("actor_key", ""),
                actor_name=entry.get("actor_name", ""),
                channel=entry.get("channel", ""),
                command=entry.get("command", ""),
                outcome=entry.get("outcome", "error"),
                cluster=entry.get("cluster", ""),
                namespace=entry.get("namespace", ""),
                app=entry.get("target", ""),
                detail=entry.get("detail", ""),
                correlation_id=entry.get("correlation_id", ""),
                line_text=entry.get("line", ""),
                approver_id=entry.get("approver_key", ""),
                activity_id=entry.get("activity_id", ""),
            )
        )

    async def latest(self, n: int = 20) -> list[AuditEntry]:
        """The newest `n` entries, newest first."""
        n = max(1, min(int(n), 500))
        query = select(self.table).order_by(self.table.c.id.desc()).limit(n)
        async with self._db.begin() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_entry(row) for row in rows]

    async def acted(self, activity_id: str, command: str) -> AuditEntry | None:
        """The newest entry saying `command`'s handler ran for this activity (`HANDLER_OUTCOMES`), if any."""
        if not activity_id:
            return None
        table = self.table
        query = (
            select(table)
            .where(table.c.activity_id == activity_id[: _LIMITS["activity_id"]], table.c.command == command)
            .where(table.c.outcome.in_(HANDLER_OUTCOMES))
            .order_by(table.c.id.desc())
            .limit(1)
        )
        async with self._db.begin() as conn:
            row = (await conn.execute(query)).mappings().first()
        return _entry(row) if row is not None else None


def _entry(row: Any) -> AuditEntry:
    at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=dt.UTC)
    return AuditEntry(**{k: v for k, v in row.items() if k != "at"}, at=at)

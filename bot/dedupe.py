"""Redelivered activities are processed once.

Channels retry a POST when the bot is slow to answer, with the same activity id. The first
delivery inserts a row keyed by channel, conversation and activity id; a redelivery hits the
primary key and is skipped. Because the check is a database constraint, it also holds across
replicas.

Deliveries that arrive together are recorded together (group commit): one transaction inserts
the whole batch with `ON CONFLICT DO NOTHING RETURNING key`, and the keys it returns are the first
deliveries. Under load that turns one commit per turn into one commit per batch.

Rows older than the retention window are deleted by the app's pruning task (`bot.pruning`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.db import Database
from bot.schema import processed_activities as processed

_FORGET = delete(processed).where(processed.c.seen_at < bindparam("cutoff"))
RETENTION = timedelta(days=1)


def _record_statement(sqlite: bool) -> Any:
    insert = sqlite_insert if sqlite else pg_insert
    return insert(processed).on_conflict_do_nothing(index_elements=["key"]).returning(processed.c.key)


class DeliveryLedger:
    """Remembers which activity ids have been processed, for `retention`."""

    def __init__(self, db: Database, retention: timedelta = RETENTION):
        self._db = db
        self._retention = retention
        self._record = _record_statement(db.is_sqlite)
        self._pending: list[tuple[str, asyncio.Future[bool]]] = []
        self._flushes: set[asyncio.Task[None]] = set()

    async def first_delivery(self, channel: str, conversation: str, activity_id: str) -> bool:
        """True the first time this activity is seen; False for a redelivery."""
        key = f"{channel}|{conversation}|{activity_id}"[:512]
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((key, future))
        if len(self._pending) == 1:
            asyncio.get_running_loop().call_soon(self._flush_soon)
        return await future

    def _flush_soon(self) -> None:
        if not self._pending:
            return  # close() flushed this batch already
        batch, self._pending = self._pending, []
        # The loop keeps only a weak reference to a task: hold it until it is done.
        task = asyncio.get_running_loop().create_task(self._flush(batch))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush(self, batch: list[tuple[str, asyncio.Future[bool]]]) -> None:
        now = datetime.now(UTC)
        unique = list(dict.fromkeys(key for key, _ in batch))
        try:
            async with self._db.begin() as conn:
                result = await conn.execute(self._record, [{"key": k, "seen_at": now} for k in unique])
                inserted = {row[0] for row in result}
        except Exception as exc:  # noqa: BLE001 - every waiter must hear about the failure
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except asyncio.CancelledError:  # closed while recording: the waiters are cancelled too
            for _, future in batch:
                future.cancel()
            raise
        for key, future in batch:
            first = key in inserted
            inserted.discard(key)  # the same id twice in one batch: only the first is new
            if not future.done():
                future.set_result(first)

    async def close(self, timeout: float = 5.0) -> None:
        """Record what is waiting and let the batches in flight finish (cancelled after `timeout`)."""
        self._flush_soon()
        flushes = list(self._flushes)
        if not flushes:
            return
        _done, late = await asyncio.wait(flushes, timeout=timeout)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    async def forget_old(self, now: datetime | None = None) -> int:
        """Drop ids older than the retention window; channels do not redeliver that late."""
        cutoff = (now or datetime.now(UTC)) - self._retention
        async with self._db.begin() as conn:
            result = await conn.execute(_FORGET, {"cutoff": cutoff})
        return result.rowcount or 0

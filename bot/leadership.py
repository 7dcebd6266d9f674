"""Leader election outside a cluster: a PostgreSQL session advisory lock, held while leading.

When k8or runs where no Lease can be written (no in-cluster ServiceAccount) but its replicas share
PostgreSQL, leadership of a cluster's watches is `pg_try_advisory_lock(key)` on one connection kept
for as long as the replica leads. PostgreSQL releases the lock when that session ends, so a replica
that dies (SIGKILL, lost network) hands over as soon as its connection is gone. The leader checks its
session every `retry_period` and stops leading when the check fails for `renew_deadline`; the others
try for the lock every `retry_period`. The key is per schema and cluster: installations sharing a
database, and the clusters one installation watches, elect independently.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from bot.db import Database, InLoopConnection
from cluster.leader import Callback, ElectionTiming

if TYPE_CHECKING:  # PostgreSQL's asyncio extension loads only where an election runs
    from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger(__name__)


def advisory_key(schema: str, cluster: str) -> int:
    """A signed 64-bit lock key for this schema's watches of `cluster`."""
    digest = hashlib.sha256(f"k8or-notify/{schema}/{cluster}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryLockElection:
    """One replica's candidacy for `key`, on a connection of the app's database (PostgreSQL)."""

    def __init__(self, db: Database, key: int, timing: ElectionTiming):
        self.db, self.key, self.timing = db, key, timing
        self.leading = False
        self._task: asyncio.Task[None] | None = None
        self._release = True
        self._on_lead: Callback = lambda: None
        self._on_lose: Callback = lambda: None

    def start(self, on_lead: Callback, on_lose: Callback) -> None:
        self._on_lead, self._on_lose = on_lead, on_lose
        self._task = asyncio.create_task(self._campaign(), name=f"election:{self.key}")

    async def stop(self, release: bool = True) -> None:
        """Stop; with `release` False the session is cut as a dying process's would be."""
        self._release = release
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _campaign(self) -> None:
        while True:
            try:
                async with self.db.autocommit() as conn:
                    assert not isinstance(conn, InLoopConnection), "advisory locks need PostgreSQL"
                    try:
                        await self._acquire(conn)
                        await self._lead(conn)
                    finally:
                        await self._give_up(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database may be away for a while
                log.warning("leader election (advisory lock) failed, retrying: %s", exc)
                await asyncio.sleep(self.timing.retry_period)

    async def _acquire(self, conn: AsyncConnection) -> None:
        query = text("SELECT pg_try_advisory_lock(:key)")
        while not (await conn.execute(query, {"key": self.key})).scalar():
            await asyncio.sleep(self.timing.retry_period)
        self.leading = True
        self._on_lead()

    async def _lead(self, conn: AsyncConnection) -> None:
        """Hold the lock; return when the session stops answering within the renew deadline."""
        while True:
            await asyncio.sleep(self.timing.retry_period)
            await asyncio.wait_for(conn.execute(text("SELECT 1")), self.timing.renew_deadline)

    async def _give_up(self, conn: AsyncConnection) -> None:
        """Stop leading; unlock and keep the connection, or end the session (which frees the lock)."""
        led, self.leading = self.leading, False
        if led:
            self._on_lose()
        unlock: Any = text("SELECT pg_advisory_unlock(:key)")
        try:
            if led and self._release:
                await asyncio.shield(conn.execute(unlock, {"key": self.key}))
                return
        except Exception:  # noqa: BLE001 - the session is broken: ending it frees the lock
            pass
        # The session ends: PostgreSQL frees the lock, as when a process dies. Also after a try
        # cut short, whose answer (and so whether this session holds the lock) never arrived.
        await conn.invalidate()

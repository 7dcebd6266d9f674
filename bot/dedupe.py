"""Redelivered activities are processed once.

Channels retry a POST when the bot is slow to answer, with the same activity id. The first
delivery inserts a row keyed by channel, conversation and activity id; a redelivery hits the
primary key and is skipped. Because the check is a database constraint, it also holds across
replicas.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, DateTime, MetaData, String, Table, delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

metadata = MetaData()
SCHEMA = ("processed_activities", metadata, 1)

processed = Table(
    "processed_activities",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False, index=True),
)


class DeliveryLedger:
    """Remembers which activity ids have been processed, for `retention`."""

    def __init__(self, engine: AsyncEngine, retention: timedelta = timedelta(days=1)):
        self._engine = engine
        self._retention = retention

    async def first_delivery(self, channel: str, conversation: str, activity_id: str) -> bool:
        """True the first time this activity is seen; False for a redelivery."""
        key = f"{channel}|{conversation}|{activity_id}"[:512]
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(processed).values(key=key, seen_at=datetime.now(UTC)))
        except IntegrityError:
            return False
        return True

    async def forget_old(self) -> int:
        """Drop ids older than the retention window; channels do not redeliver that late."""
        cutoff = datetime.now(UTC) - self._retention
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(processed).where(processed.c.seen_at < cutoff))
        return result.rowcount or 0

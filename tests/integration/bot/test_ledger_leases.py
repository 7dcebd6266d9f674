"""The delivery ledger with leases: two replicas (two ledgers) on one database, SQLite and PostgreSQL.

An activity runs once: a redelivery waits while a live replica runs it and is dropped when that turn is
done; when the replica running it dies (its lease lapses unrenewed), the redelivery runs it, once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import sqlalchemy as sa

from bot.db import Database
from bot.dedupe import LEASE, Claim, DeliveryLedger
from bot.delivery import current_activity_key
from bot.schema import processed_activities
from testing.clock import FakeClock
from tests.support.databases import database, db  # noqa: F401 - fixtures: SQLite and PostgreSQL, migrated

SHORT = 0.3  # seconds: a lease short enough to watch lapse


async def _deliver(ledger: DeliveryLedger, runs: list[str], work: float = 0.05) -> bool:
    """One delivery of activity a1 as the pipeline handles it; True when this one ran the turn."""
    claim = await ledger.claim("msteams", "c", "a1")
    if claim is None:
        return False
    async with claim:
        runs.append(ledger.owner)
        await asyncio.sleep(work)
    return True


async def _row(db: Database, key: str = "msteams|c|a1") -> sa.RowMapping:  # noqa: F811
    async with db.begin() as conn:
        query = sa.select(processed_activities).where(processed_activities.c.key == key)
        return (await conn.execute(query)).mappings().one()


async def test_concurrent_first_deliveries_on_two_replicas_run_once(db: Database) -> None:  # noqa: F811
    one, two = DeliveryLedger(db), DeliveryLedger(db)
    runs: list[str] = []
    try:
        ran = await asyncio.gather(*(_deliver(ledger, runs) for ledger in (one, two, one, two, two)))
    finally:
        await one.close()
        await two.close()
    assert sorted(ran) == [False, False, False, False, True]
    assert len(runs) == 1
    row = await _row(db)
    assert row["done_at"] is not None and row["owner"] == runs[0]


async def test_a_redelivery_waits_for_the_running_turn_and_is_then_dropped(db: Database) -> None:  # noqa: F811
    first, other = DeliveryLedger(db, lease=SHORT), DeliveryLedger(db, lease=SHORT)
    runs: list[str] = []
    try:
        running = asyncio.create_task(_deliver(first, runs, work=1.0))  # longer than the lease: renewed
        while not runs:
            await asyncio.sleep(0.01)
        started = time.monotonic()
        redelivered = await _deliver(other, runs)
        waited = time.monotonic() - started
        assert await running
    finally:
        await first.close()
        await other.close()
    assert redelivered is False
    assert runs == [first.owner]
    assert waited >= 0.5  # it waited for the turn to finish rather than dropping it at once


async def test_a_redelivery_after_the_replica_died_runs_once(db: Database) -> None:  # noqa: F811
    dead = DeliveryLedger(db, lease=SHORT)
    claim = await dead.claim("msteams", "c", "a1")
    assert isinstance(claim, Claim) and not claim.delivery.retaken
    await dead.close()  # SIGKILL: the turn never completes and nothing renews its lease
    survivors = [DeliveryLedger(db, lease=SHORT) for _ in range(2)]
    runs: list[str] = []
    try:
        ran = await asyncio.gather(*(_deliver(ledger, runs) for ledger in survivors * 2))
    finally:
        for ledger in survivors:
            await ledger.close()
    assert sorted(ran) == [False, False, False, True]
    assert len(runs) == 1 and runs[0] != dead.owner
    assert (await _row(db))["done_at"] is not None


async def test_with_the_default_lease_the_redelivery_waits_until_it_lapses(db: Database) -> None:  # noqa: F811
    clock = FakeClock()  # both replicas read it; only the test moves it
    dead, survivor = DeliveryLedger(db, clock=clock), DeliveryLedger(db, clock=clock)
    try:
        assert await dead.claim("msteams", "c", "a1") is not None
        await dead.close()  # killed: its 15 s lease is never renewed
        waiting = asyncio.create_task(survivor.claim("msteams", "c", "a1"))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # within the lease the owner may be alive: wait
        clock.advance(LEASE + 0.5)
        claim = await asyncio.wait_for(waiting, 5)
        assert claim is not None and claim.delivery.retaken
        async with claim:
            pass
        assert await survivor.claim("msteams", "c", "a1") is None  # done now: dropped at once
    finally:
        await survivor.close()


async def test_the_retaken_turn_knows_it_and_its_audit_key(db: Database) -> None:  # noqa: F811
    dead, survivor = DeliveryLedger(db, lease=SHORT), DeliveryLedger(db, lease=SHORT)
    try:
        assert await dead.claim("msteams", "c", "a1") is not None
        await dead.close()
        claim = await survivor.claim("msteams", "c", "a1")
        assert claim is not None
        async with claim as delivery:
            assert delivery.retaken
            assert current_activity_key() == "msteams|c|a1"
        assert current_activity_key() == ""
    finally:
        await survivor.close()


async def test_a_failed_turn_releases_its_claim_at_once(db: Database) -> None:  # noqa: F811
    one, two = DeliveryLedger(db), DeliveryLedger(db)  # the default lease: 15 s
    try:
        claim = await one.claim("msteams", "c", "a1")
        assert claim is not None
        try:
            async with claim:
                raise RuntimeError("the turn failed")
        except RuntimeError:
            pass
        started = time.monotonic()
        again = await two.claim("msteams", "c", "a1")
        assert again is not None and time.monotonic() - started < 5  # no wait for the 15 s lease
        async with again:
            pass
    finally:
        await one.close()
        await two.close()


async def test_done_ids_are_pruned_after_a_day_and_live_claims_are_kept(db: Database) -> None:  # noqa: F811
    ledger = DeliveryLedger(db)
    now = dt.datetime.now(dt.UTC)
    day, hour = dt.timedelta(days=1), dt.timedelta(hours=1)
    rows = [
        {"key": "done-old", "seen_at": now - day - hour, "done_at": now - day - hour, "lease_until": None},
        {"key": "done-new", "seen_at": now - hour, "done_at": now - hour, "lease_until": None},
        {"key": "abandoned", "seen_at": now - 2 * day, "done_at": None, "lease_until": now - 2 * day},
        {"key": "running", "seen_at": now - 2 * day, "done_at": None, "lease_until": now + hour},
    ]
    async with db.begin() as conn:
        await conn.execute(processed_activities.insert(), [{**row, "owner": "o"} for row in rows])
    assert await ledger.forget_old(now) == 2
    async with db.begin() as conn:
        left = (await conn.execute(sa.select(processed_activities.c.key))).scalars().all()
    assert sorted(left) == ["done-new", "running"]

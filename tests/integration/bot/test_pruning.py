"""The pruning task: stale ledger rows, expired sign-in links and pending sign-ins leave the database.

It is started by the app's lifetime and stopped with it; its schedule runs on the monotonic clock from
its own start, so it sweeps at once even seconds after the machine booted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable

import sqlalchemy as sa

from bot.app import AppParts, build_app
from bot.db import Database
from bot.dedupe import DeliveryLedger
from bot.keys import SERVICES
from bot.pruning import Pruner, Sweep, sweeps_for
from bot.schema import processed_activities, signin_links, signin_pending, signin_states
from bot.settings import Settings
from tests.support.databases import database, db  # noqa: F401 - fixtures: SQLite and PostgreSQL, migrated


def _moments() -> tuple[dt.datetime, dt.datetime, dt.datetime, dt.datetime]:
    """Stale, fresh, expired and live, from now: taken when the rows are written, not at import
    (a whole suite takes longer than the 5 minutes a "live" row lives)."""
    now = dt.datetime.now(dt.UTC)
    return (
        now - dt.timedelta(days=2),
        now - dt.timedelta(minutes=5),
        now - dt.timedelta(seconds=1),
        now + dt.timedelta(minutes=5),
    )


def seconds_after_boot(offset: float = 3.0) -> Callable[[], float]:
    """A monotonic clock that reads a few seconds, as it does just after the machine booted."""
    start = time.monotonic()
    return lambda: time.monotonic() - start + offset


def _rows(kind: str, **values: object) -> list[dict[str, object]]:
    """Two rows of one table: "gone" (stale or expired) and "kept" (fresh or live)."""
    stale_seen, fresh_seen, expired, live = _moments()
    stale, fresh = (stale_seen, fresh_seen) if kind == "seen_at" else (expired, live)
    key = values.pop("key_column", "key")
    return [{**values, key: "gone", kind: stale}, {**values, key: "kept", kind: fresh}]


async def _seed(db: Database) -> None:  # noqa: F811
    async with db.begin() as conn:
        await conn.execute(processed_activities.insert(), _rows("seen_at"))
        await conn.execute(signin_links.insert(), _rows("expires_at", person="p", service="s", progress="{}"))
        await conn.execute(signin_states.insert(), _rows("expires_at", link="x", method="oauth"))
        pending = {"person": "d", "service": "s", "link": "l", "ciphertext": "c", "attempts": 0}
        await conn.execute(signin_pending.insert(), _rows("expires_at", key_column="id", **pending))


async def _keys(db: Database) -> dict[str, list[str]]:  # noqa: F811
    tables = {"ledger": processed_activities.c.key, "links": signin_links.c.key}
    tables |= {"states": signin_states.c.key, "pending": signin_pending.c.id}
    async with db.begin() as conn:
        return {name: sorted((await conn.execute(sa.select(c))).scalars()) for name, c in tables.items()}


async def _eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> bool:
    """True once `check` holds; the bound only ends a wait that would never succeed (a loaded CI
    machine once took more than 5 s for the first sweep), it measures nothing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return False


async def test_the_first_sweep_runs_seconds_after_boot_and_keeps_live_rows(db: Database) -> None:  # noqa: F811
    await _seed(db)
    pruner = Pruner(sweeps_for(db, DeliveryLedger(db)), interval=600, monotonic=seconds_after_boot())
    task = asyncio.create_task(pruner.run())
    try:
        assert await _eventually(lambda: _is_pruned(db))
    finally:
        task.cancel()
    assert await _keys(db) == {"ledger": ["kept"], "links": ["kept"], "states": ["kept"], "pending": ["kept"]}


async def _is_pruned(db: Database) -> bool:  # noqa: F811
    return all(len(keys) == 1 for keys in (await _keys(db)).values())


async def test_sweeps_repeat_every_interval_and_survive_a_failing_sweep() -> None:
    passes: list[float] = []
    failures: list[float] = []

    async def count(_now: dt.datetime) -> int:
        passes.append(time.monotonic())
        return 0

    async def broken(_now: dt.datetime) -> int:
        failures.append(time.monotonic())
        raise ConnectionError("database restarting")

    sweeps = [Sweep("broken", broken), Sweep("counted", count)]
    started = time.monotonic()
    task = asyncio.create_task(Pruner(sweeps, interval=0.1, monotonic=seconds_after_boot(0.5)).run())
    try:
        assert await _eventually(lambda: _true(len(passes) >= 3))
    finally:
        task.cancel()
    elapsed = time.monotonic() - started
    assert len(failures) >= 3  # the broken sweep ran every time and never stopped the others
    # It keeps to its interval: never more sweeps than ticks (a loaded machine only means fewer).
    assert len(passes) <= elapsed / 0.1 + 2


async def _true(value: bool) -> bool:
    return value


async def test_the_app_lifetime_starts_and_stops_the_task(aiohttp_client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path)
    seeded = Database(settings.effective_database_url)
    await seeded.upgrade()
    await _seed(seeded)
    await seeded.dispose()
    client = await aiohttp_client(build_app(settings, AppParts()))
    app_db = client.server.app[SERVICES].db
    assert await _eventually(lambda: _is_pruned(app_db))
    assert _pruning_tasks()
    await client.close()
    assert not _pruning_tasks()


def _pruning_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "k8or-pruning" and not t.done()]


async def test_the_ledger_finishes_its_recording_tasks_when_closed(db: Database) -> None:  # noqa: F811
    ledger = DeliveryLedger(db)
    waiter = asyncio.ensure_future(ledger.claim("slack", "c", "a1"))
    await asyncio.sleep(0)  # the delivery is queued; its recording task is not done yet
    await ledger.close()
    assert (await _keys(db))["ledger"] == ["slack|c|a1"]  # recorded before close() returned
    assert await waiter is not None  # the claim was this delivery's
    assert await ledger.forget_old(dt.datetime.now(dt.UTC) + dt.timedelta(days=2)) == 1

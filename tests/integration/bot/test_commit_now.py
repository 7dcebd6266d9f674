"""Writes committed the moment they are made (`Database.commit_now`, `start_commit`), on SQLite and
PostgreSQL: the delivery ledger's done-marks, which must not wait behind anything.

"Left before the first wait" is checked the way a SIGKILL would test it: once the call returns, the
event loop is held (a blocking read from another connection), so nothing more of this process runs;
the row must show up anyway.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from bot.db import Database
from bot.eager import started_now
from bot.schema import processed_activities as processed
from tests.support.databases import PG_DSN, DatabaseUnderTest, database, db  # noqa: F401 - fixtures

NOW = sa.func.current_timestamp()
DONE = sa.update(processed).where(processed.c.key == sa.bindparam("k")).values(done_at=NOW)


def _insert(key: str) -> Any:
    return processed.insert().values(key=key, seen_at=NOW, owner="test")


def rows_seen_from_outside(db: Database, keys: list[str], within: float = 2.0) -> list[str]:  # noqa: F811
    """The keys another connection sees (done ones only, for `done=True`), looking until all are
    there or `within` seconds passed; blocking: this process runs nothing else meanwhile."""
    deadline = time.monotonic() + within
    query = "SELECT key FROM {table} WHERE done_at IS NOT NULL OR key NOT LIKE 'done-%'"
    while True:
        if db.is_sqlite:
            with sqlite3.connect(db.url.split(":///", 1)[1]) as conn:
                found = [r[0] for r in conn.execute(query.format(table="processed_activities"))]
        else:
            with psycopg.connect(PG_DSN) as conn:
                table = f'"{db.schema}".processed_activities'
                found = [r[0] for r in conn.execute(query.format(table=table))]  # type: ignore[arg-type]
        if set(keys) <= set(found) or time.monotonic() > deadline:
            return sorted(k for k in found if k in keys)
        time.sleep(0.01)


async def test_a_started_commit_has_left_when_the_call_returns(db: Database) -> None:  # noqa: F811
    keys = [f"done-{n}" for n in range(3)]
    for key in keys:
        await db.commit_now(_insert(key))
    await db.open_at_once([(DONE, {"k": ""})])  # prepared on each connection, as the ledger does
    marks = [db.start_commit(DONE, {"k": key}) for key in keys]
    assert rows_seen_from_outside(db, keys) == keys  # with the loop held all along
    await asyncio.gather(*marks)
    assert all(mark.exception() is None for mark in marks)


async def test_a_started_commit_that_fails_says_so_through_its_future(db: Database) -> None:  # noqa: F811
    await db.commit_now(_insert("once"))
    mark = db.start_commit(_insert("once"))  # the same key again: a unique violation
    with pytest.raises(
        Exception, match="(?i)unique"
    ):  # SQLAlchemy's error on SQLite, asyncpg's on PostgreSQL
        await mark
    await db.commit_now(_insert("after"))  # the connection is usable after the failure
    assert rows_seen_from_outside(db, ["once", "after"]) == ["after", "once"]


async def test_started_now_runs_a_coroutine_to_its_first_wait_and_the_rest_as_a_task() -> None:
    steps: list[str] = []

    async def work() -> str:
        steps.append("before")
        await asyncio.sleep(0.01)
        steps.append("after")
        return "done"

    running = started_now(work())
    assert steps == ["before"]  # no loop iteration has run yet
    assert await running == "done" and steps == ["before", "after"]
    cancelled = started_now(work())
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert steps == ["before", "after", "before"]  # cancelled where it waited


@pytest.mark.postgres
async def test_a_connection_postgresql_closed_is_replaced_and_the_write_made(
    database: DatabaseUnderTest,  # noqa: F811
) -> None:
    if not database.schema:
        pytest.skip("PostgreSQL only: SQLite's connection is in the process")
    app_db = Database(f"{database.url}?application_name={database.schema}", database.schema)
    try:
        await app_db.upgrade()
        await app_db.open_at_once([])
        await app_db.commit_now(_insert("before"))
        with psycopg.connect(PG_DSN) as admin:  # what a PostgreSQL restart or a proxy's idle cut does
            ended = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                (f"{database.schema} ledger",),
            ).fetchall()
        assert len(ended) == 4  # AT_ONCE: all of them
        await app_db.commit_now(_insert("after"))
        assert rows_seen_from_outside(app_db, ["before", "after"]) == ["after", "before"]
    finally:
        await app_db.dispose()


@pytest.mark.postgres
async def test_a_write_on_autocommit_holds_no_lock_while_its_process_stalls(db: Database) -> None:  # noqa: F811
    if db.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite's writes run in the process, with nothing between them")
    await db.commit_now(_insert("row"))
    async with db.autocommit() as conn:
        await conn.execute(sa.update(processed).where(processed.c.key == "row").values(owner="one"))
        # Still inside: a process stalled here (paused, frozen) must not stop another replica.
        with psycopg.connect(PG_DSN, autocommit=True) as other:
            other.execute("SET lock_timeout = '2s'")
            table = f'"{db.schema}".processed_activities'
            other.execute(f"UPDATE {table} SET owner = 'two' WHERE key = 'row'")  # type: ignore[arg-type]
    assert rows_seen_from_outside(db, ["row"]) == ["row"]

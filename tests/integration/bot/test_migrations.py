"""The one migration path: an empty database, SQLite or PostgreSQL, migrates to exactly the models.

Every table k8or keeps is in `bot.schema.metadata`; the Alembic revisions under bot/migrations build
them. Alembic's own comparison (the one `--autogenerate` uses) must find nothing between the two.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from bot.db import Database
from bot.migrations import HEAD, recorded_revision
from bot.migrations.runner import alembic_config, schema_differences
from bot.schema import metadata, processed_activities, state_items
from k8or.cli import main as k8or
from tests.support.databases import DatabaseUnderTest, database  # noqa: F401 - fixture


def test_head_names_the_newest_revision() -> None:
    """`Database.upgrade` skips Alembic for a database at HEAD: HEAD must follow new revisions."""
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD


async def _tables(db: Database) -> set[str]:
    async with db.begin() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


async def test_an_empty_database_migrates_to_the_models(database: DatabaseUnderTest) -> None:  # noqa: F811
    db = Database(database.url, database.schema)
    try:
        assert await _tables(db) == set()
        assert await db.upgrade() == HEAD
        async with db.begin() as conn:
            assert await conn.run_sync(schema_differences) == []
        # The job queue's tables (revision 0003) on PostgreSQL only: SQLite runs jobs in-process.
        names = ("jobs", "events", "workers", "periodic_defers")
        queue = set() if db.is_sqlite else {f"procrastinate_{name}" for name in names}
        assert await _tables(db) == set(metadata.tables) | {"alembic_version"} | queue
    finally:
        await db.dispose()


async def test_upgrading_again_changes_nothing(database: DatabaseUnderTest) -> None:  # noqa: F811
    db = Database(database.url, database.schema)
    try:
        await db.upgrade()
        async with db.begin() as conn:
            await conn.execute(_a_state_row())
        assert await db.upgrade() == HEAD
        async with db.begin() as conn:
            assert (await conn.execute(sa.select(state_items.c.key))).scalars().all() == ["k"]
            assert await conn.run_sync(recorded_revision, database.schema) == HEAD
        assert await db.ping()
    finally:
        await db.dispose()


async def test_a_database_from_before_alembic_is_adopted(database: DatabaseUnderTest) -> None:  # noqa: F811
    """What the old `Database.migrate()` left: three tables, their version table, no alembic_version."""
    db = Database(database.url, database.schema)
    legacy = sa.MetaData()
    for name in ("bot_state", "direct_conversations"):
        metadata.tables[name].to_metadata(legacy)
    seen = sa.Table(  # the ledger before leases (revision 0001): a key and when it was seen
        "processed_activities",
        legacy,
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    versions = sa.Table("k8or_schema", legacy, sa.Column("component", sa.String(64), primary_key=True))
    seen_at = dt.datetime(2026, 11, 30, 5, 0, tzinfo=dt.UTC)
    try:
        async with db.begin() as conn:
            await conn.run_sync(legacy.create_all)
            await conn.execute(versions.insert().values(component="bot_state"))
            await conn.execute(_a_state_row())
            await conn.execute(seen.insert().values(key="msteams|c|a1", seen_at=seen_at))
        assert await db.upgrade() == HEAD
        async with db.begin() as conn:
            assert (await conn.execute(sa.select(state_items.c.key))).scalars().all() == ["k"]
            assert await conn.run_sync(schema_differences) == []
            # A turn the old ledger saw counts as done: its redelivery is still dropped.
            done = (await conn.execute(sa.select(processed_activities.c.done_at))).scalar_one()
            assert done is not None and done.replace(tzinfo=dt.UTC) == seen_at
        assert {"k8or_credentials", "k8or_cluster_audit", "k8or_signin_links"} <= await _tables(db)
    finally:
        await db.dispose()


def test_k8or_db_upgrade_on_a_fresh_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("K8OR_DATA_DIR", str(data))
    monkeypatch.delenv("K8OR_DATABASE_URL", raising=False)
    assert k8or(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.strip() == f"k8or db: schema at revision {HEAD}"
    database_file = data / "k8or.db"
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(database_file).st_mode) == 0o600
    first = _sqlite_tables(database_file)
    assert first == set(metadata.tables) | {"alembic_version"}
    assert k8or(["db", "upgrade"]) == 0  # idempotent: same revision, same tables
    assert capsys.readouterr().out.strip() == f"k8or db: schema at revision {HEAD}"
    assert _sqlite_tables(database_file) == first


def test_k8or_db_upgrade_names_an_unreachable_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("K8OR_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:9/none")
    assert k8or(["db", "upgrade"]) == 1
    assert "k8or db: cannot upgrade the database" in capsys.readouterr().err


def _sqlite_tables(path: Path) -> set[str]:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _a_state_row() -> sa.Insert:
    return state_items.insert().values(key="k", etag="e", document="{}", updated_at=dt.datetime.now(dt.UTC))

"""Issue 10, item 4: the URL forms people write open the real databases, parameters included."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.db import Database
from tests.support.databases import _drop, _pg_schema


@pytest.mark.parametrize("scheme", ["sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"])
async def test_sqlite_urls_run_in_the_loop_on_one_connection(tmp_path, scheme):
    db = Database(f"{scheme}:///{tmp_path / 'k8or.db'}")
    try:
        assert db.is_sqlite and await db.upgrade() and await db.ping()
    finally:
        await db.dispose()
    assert (tmp_path / "k8or.db").stat().st_size > 0


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"])
async def test_postgres_urls_with_libpq_parameters_run_on_asyncpg(scheme):
    schema = await _pg_schema()
    url = f"{scheme}://postgres@127.0.0.1:5432/test?sslmode=disable&connect_timeout=5&application_name=k8or-test"
    db = Database(url, schema)
    try:
        assert not db.is_sqlite and await db.upgrade()
        async with db.begin() as conn:
            name = (await conn.execute(text("SELECT current_setting('application_name')"))).scalar()
            path = (await conn.execute(text("SELECT current_setting('search_path')"))).scalar()
        assert (name, path) == ("k8or-test", schema)
    finally:
        await db.dispose()
        await _drop(schema)


@pytest.mark.postgres
async def test_sslmode_reaches_the_driver():
    # The local server has ssl off: `sslmode=require` must make the connection fail, not be dropped.
    db = Database("postgresql://postgres@127.0.0.1:5432/test?sslmode=require&connect_timeout=5")
    try:
        assert await db.ping() is False
    finally:
        await db.dispose()

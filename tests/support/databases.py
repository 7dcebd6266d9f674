"""The two databases k8or supports, as pytest parameters: SQLite in tmp, PostgreSQL on this machine.

PostgreSQL runs on 127.0.0.1:5432 (trust auth, database `test`); each test gets its own schema
so parallel runs never see each other's rows. `database` names an empty database; `db` is the app's
`Database` on it, migrated through the one migration path (what start-up does).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import pytest

from bot.db import Database

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass
class DatabaseUnderTest:
    url: str
    schema: str = ""


async def _pg_schema() -> str:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncio.wait_for(asyncpg.connect(PG_DSN), 10)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    return schema


async def _drop(schema: str) -> None:
    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database(request, tmp_path) -> AsyncIterator[DatabaseUnderTest]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield DatabaseUnderTest(f"sqlite+aiosqlite:///{tmp_path / 'k8or.db'}")
        return
    schema = await _pg_schema()
    try:
        yield DatabaseUnderTest(PG_URL, schema)
    finally:
        await _drop(schema)


@asynccontextmanager
async def migrated(database: DatabaseUnderTest) -> AsyncIterator[Database]:
    """The app's database on `database`, upgraded to the newest revision; disposed after."""
    db = Database(database.url, database.schema)
    try:
        await db.upgrade()
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def db(database: DatabaseUnderTest) -> AsyncIterator[Database]:
    async with migrated(database) as migrated_db:
        yield migrated_db

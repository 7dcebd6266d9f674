"""The database engine and schema: one SQLAlchemy URL, SQLite by default, PostgreSQL in production.

Every module that persists something owns its tables in its own `MetaData` and exposes it; the
app hands all of them to `migrate()` at start, which creates what is missing and records the
schema version, so a newer k8or can upgrade an older database in place.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SCHEMA_VERSION = 1

version_metadata = MetaData()
schema_versions = Table(
    "k8or_schema",
    version_metadata,
    Column("component", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
)


def open_engine(url: str, schema: str = "") -> AsyncEngine:
    """An async engine for the URL; SQLite gets WAL and a busy timeout so readers never block writers.

    `schema` (PostgreSQL) keeps k8or's tables in their own schema of a shared database.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 15})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {"server_settings": {"search_path": schema}} if schema else {}
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


async def migrate(engine: AsyncEngine, components: Iterable[tuple[str, MetaData, int]]) -> None:
    """Create missing tables for each (component, metadata, version) and record its version."""
    async with engine.begin() as conn:
        await conn.run_sync(version_metadata.create_all)
        for name, metadata, version in components:
            await conn.run_sync(metadata.create_all)
            current = (
                await conn.execute(select(schema_versions.c.version).where(schema_versions.c.component == name))
            ).scalar()
            if current is None:
                await conn.execute(schema_versions.insert().values(component=name, version=version))
            elif current < version:
                await conn.execute(
                    schema_versions.update().where(schema_versions.c.component == name).values(version=version)
                )


async def ping(engine: AsyncEngine) -> bool:
    """True when the database answers a trivial query."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - readiness must answer, whatever the driver raises
        return False

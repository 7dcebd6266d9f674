"""The database: one SQLAlchemy URL, SQLite by default, PostgreSQL in production.

`Database` runs SQLAlchemy Core statements for the turn's hot path (state and delivery ledger)
with the same code on both backends. On PostgreSQL it uses the asyncpg engine. On SQLite it
uses one synchronous connection on the event loop's own thread: a local SQLite statement takes
microseconds, while handing each statement to a driver thread (aiosqlite) costs a millisecond
of CPU per turn in thread switches. Transactions take an asyncio lock, so they never interleave.

Every module that persists something owns its tables in its own `MetaData`; the app hands all of
them to `migrate()` at start, which creates what is missing and records the schema version.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from connectors.private_files import private_directory, private_file, tighten_file

version_metadata = MetaData()
schema_versions = Table(
    "k8or_schema",
    version_metadata,
    Column("component", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
)

Component = tuple[str, MetaData, int]


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def open_engine(url: str, schema: str = "") -> AsyncEngine:
    """An async engine for the URL (for modules off the hot path: vault, audit, sign-in links).

    `schema` (PostgreSQL) keeps k8or's tables in their own schema of a shared database.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _ensure_parent(parsed.database)
        engine = create_async_engine(url, connect_args={"timeout": 15})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {"server_settings": {"search_path": schema}} if schema else {}
    return create_async_engine(
        url, pool_size=10, max_overflow=10, pool_pre_ping=True, connect_args=connect_args
    )


def _ensure_parent(database: str | None) -> None:
    """Prepare a SQLite file: its folder created 0700 if missing, the file and its WAL files 0600.

    SQLite creates the file with the umask's mode (0644) and its -wal and -shm files with the
    database's, so the database is created here first, private; one found looser is tightened.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.exists():
        private_directory(path.parent)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        tighten_file(path.with_name(path.name + suffix))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class _InLoop:
    """A sync SQLAlchemy connection presented with the async connection's methods we use."""

    def __init__(self, conn: Connection):
        self._conn = conn

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        return self._conn.execute(statement, parameters)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        with self._conn.begin_nested():
            yield


class Database:
    """Transactions for the hot path, on SQLite (in-loop) or PostgreSQL (asyncpg)."""

    def __init__(self, url: str, schema: str = ""):
        self.url = url
        self._lock = asyncio.Lock()
        self._sync: Engine | None = None
        self._conn: Connection | None = None
        self._async: AsyncEngine | None = None
        if is_sqlite(url):
            parsed = make_url(url).set(drivername="sqlite+pysqlite")
            _ensure_parent(parsed.database)
            self._sync = create_engine(
                parsed, poolclass=StaticPool, connect_args={"check_same_thread": False, "timeout": 5}
            )
            event.listen(self._sync, "connect", _sqlite_pragmas)
        else:
            self._async = open_engine(url, schema)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection | _InLoop]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        if self._async is not None:
            async with self._async.begin() as conn:
                yield conn
            return
        async with self._lock:
            conn = self._connection()
            with conn.begin():
                yield _InLoop(conn)

    def _connection(self) -> Connection:
        # One connection held for the app's life: checking it out of a pool per transaction
        # costs more than the SQLite statements themselves.
        if self._conn is None or self._conn.closed:
            assert self._sync is not None
            self._conn = self._sync.connect()
        return self._conn

    @property
    def is_sqlite(self) -> bool:
        return self._sync is not None

    async def migrate(self, components: Iterable[Component]) -> None:
        """Create missing tables for each (component, metadata, version) and record its version."""
        components = list(components)
        if self._async is not None:
            async with self._async.begin() as conn:
                await conn.run_sync(_migrate, components)
            return
        async with self._lock:
            conn = self._connection()
            with conn.begin():
                _migrate(conn, components)

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.begin() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - readiness must answer, whatever the driver raises
            return False

    async def dispose(self) -> None:
        if self._async is not None:
            await self._async.dispose()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._sync is not None:
            self._sync.dispose()


def _migrate(conn: Connection, components: list[Component]) -> None:
    version_metadata.create_all(conn)
    for name, metadata, version in components:
        metadata.create_all(conn)
        current = conn.execute(
            select(schema_versions.c.version).where(schema_versions.c.component == name)
        ).scalar()
        if current is None:
            conn.execute(schema_versions.insert().values(component=name, version=version))
        elif current < version:
            conn.execute(
                schema_versions.update().where(schema_versions.c.component == name).values(version=version)
            )


async def migrate(engine: AsyncEngine, components: Iterable[Component]) -> None:
    """Migration on an async engine (used by modules that own their own engine in tests)."""
    components = list(components)
    async with engine.begin() as conn:
        await conn.run_sync(_migrate, components)


async def ping(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001
        return False

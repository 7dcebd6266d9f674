"""The database: one SQLAlchemy URL, SQLite by default, PostgreSQL in production; one engine per process.

`Database` owns the process's only engine, and everything that persists (state, delivery ledger,
direct conversations, audit trail, vault, sign-in links, pending sign-ins) runs its statements
through `Database.begin()`, with the same SQLAlchemy Core code on both backends.

- PostgreSQL: the asyncpg engine and its pool. Statements that must be committed the moment they
  are written (the delivery ledger's done-marks) go through `Database.commit_now`, on a few
  connections of their own: no wait behind the turns for a pooled connection, no ping first.
- SQLite: one synchronous connection used on the event loop's own thread. A local SQLite statement
  takes microseconds, while handing each one to a driver thread (aiosqlite) costs a millisecond of
  CPU per turn in thread switches; and with one connection there is one writer to the file.
  Transactions take an asyncio lock, so they never interleave.

The schema comes from one migration path, Alembic (`bot/migrations`), applied by `upgrade()` at
start-up and by `k8or db upgrade`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, CursorResult, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from bot.database_url import SECONDS, SQLITE, normalise_database_url
from bot.migrations import HEAD, recorded_revision
from connectors.private_files import private_directory, private_file, tighten_file

T = TypeVar("T")
AT_ONCE = 4  # PostgreSQL connections for `Database.commit_now`, outside the turns' pool


def is_sqlite(url: str) -> bool:
    return make_url(normalise_database_url(url)).get_backend_name() == "sqlite"


def _sqlite_engine(url: str) -> Engine:
    """The SQLite engine: the file prepared private, one connection (StaticPool) for the app's life."""
    parsed = make_url(url).set(drivername=SQLITE)
    _ensure_parent(parsed.database)
    engine = create_engine(
        parsed, poolclass=StaticPool, connect_args={"check_same_thread": False, "timeout": 5}
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _postgres_engine(url: str, schema: str, *, at_once: bool = False) -> AsyncEngine:
    """The asyncpg engine; `schema` keeps k8or's tables in their own schema of a shared database.

    `at_once`: the engine of `Database.commit_now`, `AT_ONCE` connections in autocommit mode, not
    pinged before use; its commits do not wait for the WAL flush (`synchronous_commit=off`: visible
    at once, and only a crash of PostgreSQL itself can lose the last fraction of a second of them)."""
    parsed = make_url(url)
    query = parsed.query
    server_settings = {"search_path": schema} if schema else {}
    pool: dict[str, Any] = {"pool_size": 10, "max_overflow": 10, "pool_pre_ping": True}
    if at_once:
        server_settings["synchronous_commit"] = "off"
        pool = {"pool_size": AT_ONCE, "max_overflow": 0, "isolation_level": "AUTOCOMMIT"}
    if "application_name" in query:
        server_settings["application_name"] = str(query["application_name"])
    connect_args: dict[str, Any] = {"server_settings": server_settings} if server_settings else {}
    for name in SECONDS:  # checked as numbers by normalise_database_url
        if name in query:
            connect_args[name] = float(str(query[name]))
    parsed = parsed.difference_update_query(["application_name", *SECONDS])
    return create_async_engine(parsed, connect_args=connect_args, **pool)


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


class InLoopConnection:
    """A sync SQLAlchemy connection presented with the async connection's methods k8or uses."""

    def __init__(self, conn: Connection):
        self._conn = conn

    async def execute(self, statement: Any, parameters: Any = None) -> CursorResult[*tuple[Any, ...]]:
        return self._conn.execute(statement, parameters)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        with self._conn.begin_nested():
            yield

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(self._conn, *args)


Transaction = AsyncConnection | InLoopConnection


class Database:
    """The one engine of the process and its transactions, on SQLite (in-loop) or PostgreSQL (asyncpg)."""

    def __init__(self, url: str, schema: str = ""):
        url = normalise_database_url(url)  # the forms people write; DatabaseUrlError for the rest
        self.url = url
        self.schema = schema
        self._lock = asyncio.Lock()
        self._conn: Connection | None = None
        self._sync: Engine | None = _sqlite_engine(url) if is_sqlite(url) else None
        self._async: AsyncEngine | None = None if self._sync else _postgres_engine(url, schema)
        self._at_once: AsyncEngine | None = None  # PostgreSQL: commit_now's engine, made at first use

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Transaction]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        if self._async is not None:
            async with self._async.begin() as pooled:
                yield pooled
            return
        async with self._lock:
            conn = self._connection()
            with conn.begin():
                yield InLoopConnection(conn)

    async def commit_now(self, statement: Any, parameters: Any = None) -> None:
        """Run one statement, committed the moment the database receives it.

        For writes whose delay is a risk, not a cost: the delivery ledger's done-mark follows a
        turn's replies, and until it is written a redelivery would run the turn again. On
        PostgreSQL the statement goes on one of `AT_ONCE` connections of its own, outside the pool
        the turns share (no wait for a free one, no ping before use), in autocommit mode: once its
        connections are open, the statement leaves before the call first waits, and PostgreSQL
        commits it even if this process dies then. A connection found dead is replaced and the
        statement written once more. On SQLite, the in-loop connection: one transaction, at once."""
        if self._async is None:
            async with self.begin() as conn:
                await conn.execute(statement, parameters)
            return
        if self._at_once is None:
            self._at_once = _postgres_engine(self.url, self.schema, at_once=True)
        for retry in (False, True):
            try:
                async with self._at_once.connect() as conn:
                    await conn.execute(statement, parameters)
                return
            except DBAPIError as exc:
                if retry or not exc.connection_invalidated:
                    raise

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

    async def upgrade(self) -> str:
        """Bring the schema to the newest Alembic revision (idempotent); the revision it is at now.

        Runs in one transaction: on PostgreSQL, replicas starting together take turns.
        """
        async with self.begin() as conn:
            if await conn.run_sync(recorded_revision, self.schema) == HEAD:
                return HEAD  # the usual start: nothing to do, and Alembic stays unimported
        from bot.migrations.runner import upgrade_to_head

        async with self.begin() as conn:
            return await conn.run_sync(upgrade_to_head, self.schema)

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.begin() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - readiness must answer, whatever the driver raises
            return False

    async def dispose(self) -> None:
        for engine in (self._async, self._at_once):
            if engine is not None:
                await engine.dispose()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._sync is not None:
            self._sync.dispose()


async def upgrade_database(url: str, schema: str = "") -> str:
    """`k8or db upgrade`: migrate the database at `url` to the newest revision; that revision."""
    db = Database(url, schema)
    try:
        return await db.upgrade()
    finally:
        await db.dispose()

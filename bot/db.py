"""The database: one SQLAlchemy URL, SQLite by default, PostgreSQL in production; one engine per process.

`Database` owns the process's only engine, and everything that persists (state, delivery ledger,
direct conversations, audit trail, vault, sign-in links, pending sign-ins) runs its statements
through `Database.begin()`, with the same SQLAlchemy Core code on both backends.

- PostgreSQL: the asyncpg engine and its pool. Statements that must be committed the moment they
  are written (the delivery ledger's done-marks) go through `Database.commit_now` or
  `start_commit`, on a few connections of their own: no wait behind the turns for a pooled
  connection, no ping first.
- SQLite: one synchronous connection used on the event loop's own thread. A local SQLite statement
  takes microseconds, while handing each one to a driver thread (aiosqlite) costs a millisecond of
  CPU per turn in thread switches; and with one connection there is one writer to the file.
  Transactions take an asyncio lock, so they never interleave.

The schema comes from one migration path, Alembic (`bot/migrations`), applied by `upgrade()` at
start-up and by `k8or db upgrade`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, CursorResult, Engine, make_url
from sqlalchemy.pool import StaticPool

from bot.database_url import SECONDS, SQLITE, normalise_database_url
from bot.eager import started_now
from bot.migrations import HEAD, recorded_revision
from connectors.private_files import private_directory, private_file, tighten_file

if TYPE_CHECKING:  # imported where used: SQLite never loads the asyncio extension (and the ORM it pulls in)
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
    pinged before use, named `<application_name or k8or> ledger`; their commits do not wait for the
    WAL flush (`synchronous_commit=off`: visible at once; only a crash of PostgreSQL itself can lose
    the last fraction of a second of them)."""
    parsed = make_url(url)
    query = parsed.query
    server_settings = {"search_path": schema} if schema else {}
    if "application_name" in query:
        server_settings["application_name"] = str(query["application_name"])
    pool: dict[str, Any] = {"pool_size": 10, "max_overflow": 10, "pool_pre_ping": True}
    if at_once:
        server_settings["application_name"] = server_settings.get("application_name", "k8or") + " ledger"
        server_settings["synchronous_commit"] = "off"
        pool = {"pool_size": AT_ONCE, "max_overflow": 0, "isolation_level": "AUTOCOMMIT"}
    connect_args: dict[str, Any] = {"server_settings": server_settings} if server_settings else {}
    for name in SECONDS:  # checked as numbers by normalise_database_url
        if name in query:
            connect_args[name] = float(str(query[name]))
    parsed = parsed.difference_update_query(["application_name", *SECONDS])
    from sqlalchemy.ext.asyncio import create_async_engine

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


Transaction: TypeAlias = "AsyncConnection | InLoopConnection"
_Held = tuple["AsyncConnection", Any]  # one of `_AtOnce`'s connections, and its asyncpg connection


@dataclass
class Reserved:
    """One of `commit_now`'s connections, held for a statement to come (`Database.reserve_commit`)."""

    held: _Held
    used: bool = False


class _AtOnce:
    """The PostgreSQL connections `Database.commit_now` writes on: up to `AT_ONCE`, opened through
    an engine of their own (autocommit, `synchronous_commit=off`) and held out of its pool, each
    statement handed straight to asyncpg. With asyncpg's statement cache that is one bind-and-execute
    write, some 30 µs after the call, where a checkout and SQLAlchemy's execution path take 200 µs:
    the time in which a reply has reached the channel and its done-mark has not left. A connection
    found closed is replaced and the statement written once more."""

    def __init__(self, engine: AsyncEngine):
        self._engine = engine
        self._idle: list[_Held] = []
        self._held = 0  # idle or writing
        self._waiting: deque[asyncio.Future[None]] = deque()  # writes waiting for a connection
        self._sql: dict[Any, tuple[str, tuple[str, ...], dict[str, Any]]] = {}
        self._opening = asyncio.Lock()
        self._statements: list[tuple[Any, Any]] = []  # what `open` prepares on every connection

    async def run(
        self, statement: Any, parameters: Mapping[str, Any] | None = None, held: _Held | None = None
    ) -> None:
        """Write `statement` on an idle connection, or on `held` (from `reserve`), which it gives back."""
        sql, names, bound = self._compiled(statement)
        values = {**bound, **(parameters or {})}
        args = [values[name] for name in names]
        for retry in (False, True):
            held = held if held is not None and not retry else await self._take()
            try:
                await held[1].execute(sql, *args)
            except Exception:
                if not held[1].is_closed():
                    self._give(held)
                    raise  # the statement failed, not the connection
                await self._drop(held)
                if retry:
                    raise
                # One dead connection: the server restarted or a proxy cut them all; the idle ones
                # may not know yet, so the write goes again on a new connection.
                while self._idle:
                    await self._drop(self._idle.pop())
                continue
            except BaseException:  # cancelled while writing: the connection's state is unknown
                await self._drop(held)
                raise
            self._give(held)
            return

    async def reserve(self) -> _Held:
        """A connection held for one statement that must leave the moment it is written (`run`
        with `held=`), or given back unused (`give_back`): waits, if need be, now, not then."""
        return await self._take()

    def give_back(self, held: _Held) -> None:
        self._give(held)

    async def open(self, statements: list[tuple[Any, Any]]) -> None:
        """Open the connections and run `statements` on each: they are in its statement cache. It
        takes those not writing now, and never waits for one that is (no two opens hold half each)."""
        taken: list[_Held] = []
        self._statements = statements  # also prepared on each connection opened later (`_take`)
        async with self._opening:
            try:
                while len(taken) < AT_ONCE and (self._idle or self._held < AT_ONCE):
                    taken.append(await self._take())
                await self._prepare(taken, statements)
            finally:
                for held in taken:
                    self._give(held)

    async def _prepare(self, taken: list[_Held], statements: list[tuple[Any, Any]]) -> None:
        for _conn, raw in taken:
            for statement, parameters in statements:
                sql, names, bound = self._compiled(statement)
                values = {**bound, **(parameters or {})}
                await raw.execute(sql, *[values[name] for name in names])

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn, _raw in idle:
            await conn.close()
        await self._engine.dispose()

    def _compiled(self, statement: Any) -> tuple[str, tuple[str, ...], dict[str, Any]]:
        found = self._sql.get(statement)
        if found is None:
            compiled = statement.compile(dialect=self._engine.dialect)
            found = (str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params))
            if len(self._sql) < 64:  # the ledger's few statements; others are compiled each time
                self._sql[statement] = found
        return found

    async def _take(self) -> _Held:
        while True:
            while self._idle:
                held = self._idle.pop()
                if not held[1].is_closed():
                    return held
                await self._drop(held)
            if self._held < AT_ONCE:
                break
            waiting = asyncio.get_running_loop().create_future()
            self._waiting.append(waiting)
            await waiting
        self._held += 1
        try:
            conn = await self._engine.connect()
            held = conn, (await conn.get_raw_connection()).driver_connection
            await self._prepare([held], self._statements)  # its first statement leaves at once too
            return held
        except BaseException:
            self._held -= 1
            self._wake()
            raise

    def _give(self, held: _Held) -> None:
        self._idle.append(held)
        self._wake()

    async def _drop(self, held: _Held) -> None:
        self._held -= 1
        self._wake()
        with suppress(Exception):
            await held[0].invalidate()

    def _wake(self) -> None:
        while self._waiting:
            waiting = self._waiting.popleft()
            if not waiting.done():
                waiting.set_result(None)
                return


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
        self._at_once: _AtOnce | None = None  # PostgreSQL: commit_now's connections, made at first use

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

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[Transaction]:
        """A connection on which each statement commits on its own: no row lock outlives the
        statement that took it, so a process that stalls between two statements (a long pause, a
        frozen VM) blocks no other replica meanwhile. PostgreSQL: a pooled connection in autocommit
        mode. SQLite: a transaction (in the loop, nothing runs between its statements)."""
        if self._async is None:
            async with self.begin() as conn:
                yield conn
            return
        async with self._async.connect() as pooled:
            yield await pooled.execution_options(isolation_level="AUTOCOMMIT")

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
        await self._at_once_connections().run(statement, parameters)

    async def reserve_commit(self) -> Reserved | None:
        """Hold one of `commit_now`'s connections for a statement that must leave without waiting
        for one (`start_commit(..., reserved=)`); None on SQLite, where nothing is waited for."""
        if self._async is None:
            return None
        return Reserved(await self._at_once_connections().reserve())

    def unreserve(self, reserved: Reserved) -> None:
        """Give back a reservation that was not used."""
        if self._at_once is not None and not reserved.used:
            reserved.used = True
            self._at_once.give_back(reserved.held)

    def start_commit(
        self, statement: Any, parameters: Any = None, reserved: Reserved | None = None
    ) -> asyncio.Future[None]:
        """`commit_now`, begun before this returns: the statement has left for the database (once
        `open_at_once` has run) and the future completes when it is committed. For a caller that
        must not wait: the writer of an HTTP request's body, which aiohttp cancels once the answer
        is in, marks the turn done the moment the reply has left (`bot.dedupe.Claim.written`). With
        `reserved`, the statement leaves on that connection even while every other one is busy."""
        if reserved is not None and not reserved.used and self._at_once is not None:
            reserved.used = True
            return started_now(self._at_once.run(statement, parameters, held=reserved.held))
        return started_now(self.commit_now(statement, parameters))

    async def open_at_once(self, statements: list[tuple[Any, Any]]) -> None:
        """Open `commit_now`'s connections and prepare `statements` on each (with parameters that
        match nothing), so that a later statement leaves at once, not after a connect and a
        prepare. PostgreSQL only: SQLite has nothing to open."""
        if self._async is not None:
            await self._at_once_connections().open(statements)

    def _at_once_connections(self) -> _AtOnce:
        if self._at_once is None:
            self._at_once = _AtOnce(_postgres_engine(self.url, self.schema, at_once=True))
        return self._at_once

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
        if self._at_once is not None:
            await self._at_once.close()
            self._at_once = None
        if self._async is not None:
            await self._async.dispose()
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

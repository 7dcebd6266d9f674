"""The moment a turn's reply reaches the channel, the turn is already recorded done (SQLite and
PostgreSQL, the real app over HTTP): a replica killed right then leaves nothing for a redelivery to
answer again. A reply the channel refuses leaves the turn to its redelivery, and a redelivery that
arrives while the reply is on its way waits for the channel's answer.

The channel checks the delivery ledger as it reads each reply, holding the event loop (a blocking
read from another connection): the app runs nothing more meanwhile, as if it had just been killed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from aiohttp import web

from bot.settings import Settings
from k8or.app import create_app
from testing.chat.channel import message
from tests.support.databases import PG_DSN, DatabaseUnderTest, database  # noqa: F401 - fixture

KEY = "emulator|conv-1|act-1"  # the ledger key of `message(...)`'s activity


@dataclass(frozen=True)
class LedgerRow:
    done: bool
    lease_held: bool


@dataclass
class Channel:
    """Answers each reply with the next of `answers` (then 200) after `delay` seconds, having read
    the ledger row of its activity first (`rows`, in order) with the loop held."""

    database: DatabaseUnderTest
    key: str = KEY
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
    rows: list[LedgerRow] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    read: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._reply)
        return app

    async def _reply(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.rows.append(self.row(wait_done=not self.answers))
        self.read.set()
        await asyncio.sleep(self.delay)
        status = self.answers.pop(0) if self.answers else 200
        if status < 300:
            self.accepted.append(body.get("text") or "")
        return web.json_response({"id": f"reply-{len(self.rows)}"}, status=status)

    def row(self, *, wait_done: bool = False) -> LedgerRow:
        """The ledger row, read from another connection; with `wait_done`, looked at for up to 2 s
        until it shows done (PostgreSQL commits a statement that left this process on its own)."""
        deadline = time.monotonic() + (2.0 if wait_done else 0.0)
        while True:
            done_at, lease_until = self._read()
            if done_at is not None or time.monotonic() >= deadline:
                return LedgerRow(done=done_at is not None, lease_held=lease_until is not None)
            time.sleep(0.01)

    def _read(self) -> tuple[Any, Any]:
        query = "SELECT done_at, lease_until FROM {table} WHERE key = '" + self.key + "'"
        if not self.database.schema:
            path = self.database.url.split(":///", 1)[1]
            with sqlite3.connect(path) as conn:
                return conn.execute(query.format(table="processed_activities")).fetchone()
        with psycopg.connect(PG_DSN) as conn:
            table = f'"{self.database.schema}".processed_activities'
            return conn.execute(query.format(table=table)).fetchone()  # type: ignore[arg-type,return-value]


async def _app(aiohttp_client: Any, tmp_path: Path, database: DatabaseUnderTest) -> Any:  # noqa: F811
    settings = Settings(data_dir=tmp_path, database_url=database.url, database_schema=database.schema)
    return await aiohttp_client(create_app(settings))


async def _channel(aiohttp_server: Any, database: DatabaseUnderTest, **how: Any) -> tuple[Channel, str]:  # noqa: F811
    channel = Channel(database, **how)
    server = await aiohttp_server(channel.app())
    return channel, str(server.make_url("/"))


async def _settled(channel: Channel) -> LedgerRow:
    """The row once the app has confirmed the reply was accepted (a batch after the turn, clearing
    the lease; on SQLite, one replica, the process knows it and the lease just lapses)."""
    if not channel.database.schema:
        return channel.row()
    deadline = time.monotonic() + 5
    while (row := channel.row()).lease_held and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return row


def _done(database: DatabaseUnderTest) -> LedgerRow:  # noqa: F811
    return LedgerRow(done=True, lease_held=not database.schema)


async def test_the_turn_is_done_when_the_channel_reads_its_reply(
    aiohttp_client,
    aiohttp_server,
    tmp_path: Path,
    database: DatabaseUnderTest,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    channel, url = await _channel(aiohttp_server, database)
    app = await _app(aiohttp_client, tmp_path, database)
    answer = await app.post("/api/messages", json=message("version", url))
    assert answer.status < 300
    assert channel.rows == [LedgerRow(done=True, lease_held=True)]  # done, the channel's answer awaited
    assert await _settled(channel) == _done(database)
    again = await app.post("/api/messages", json=message("version", url))  # a late redelivery
    assert again.status < 300 and channel.accepted == ["k8or 0.1.0"]


async def test_a_refused_reply_leaves_the_turn_to_its_redelivery(
    aiohttp_client,
    aiohttp_server,
    tmp_path: Path,
    database: DatabaseUnderTest,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    channel, url = await _channel(aiohttp_server, database, answers=[500])
    app = await _app(aiohttp_client, tmp_path, database)
    await app.post("/api/messages", json=message("version", url))
    assert channel.row() == LedgerRow(done=False, lease_held=False)  # released: not done
    await app.post("/api/messages", json=message("version", url))
    assert channel.accepted == ["k8or 0.1.0"]
    assert await _settled(channel) == _done(database)


async def test_a_reply_sent_again_after_429_is_done_once_accepted(
    aiohttp_client,
    aiohttp_server,
    tmp_path: Path,
    database: DatabaseUnderTest,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    channel, url = await _channel(aiohttp_server, database, answers=[429])
    app = await _app(aiohttp_client, tmp_path, database)
    await app.post("/api/messages", json=message("version", url))
    assert channel.rows[-1] == LedgerRow(done=True, lease_held=True)  # the retry: done as it left
    assert channel.accepted == ["k8or 0.1.0"]
    assert await _settled(channel) == _done(database)


async def test_a_redelivery_during_the_reply_waits_for_the_channels_answer(
    aiohttp_client,
    aiohttp_server,
    tmp_path: Path,
    database: DatabaseUnderTest,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    for refused in (False, True):  # accepted: the redelivery is dropped; refused: it answers
        answers, key = [500] if refused else [], f"emulator|conv-1|act-{refused}"
        channel, url = await _channel(aiohttp_server, database, key=key, delay=0.5, answers=answers)
        app = await _app(aiohttp_client, tmp_path / str(refused), database)
        body = message("version", url, activity_id=f"act-{refused}")
        first = asyncio.create_task(app.post("/api/messages", json=body))
        await asyncio.wait_for(channel.read.wait(), 10)
        second = await app.post("/api/messages", json=body)
        await first
        assert second.status < 300 and channel.accepted == ["k8or 0.1.0"]
        assert len(channel.rows) == (2 if refused else 1)


async def test_the_reply_waits_for_a_ledger_connection_rather_than_leave_unmarked(
    aiohttp_client,
    aiohttp_server,
    tmp_path: Path,
    database: DatabaseUnderTest,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    """Under load every connection the done-marks go out on can be busy. The reply then waits for
    one to be free, and still reaches the channel already recorded done: it never leaves first with
    its mark queued behind it (a replica killed then would have answered a turn it had not marked)."""
    if not database.schema:
        import pytest

        pytest.skip("PostgreSQL only: SQLite's writes run in the process, with nothing to wait for")
    from bot.app import SERVICES
    from bot.db import AT_ONCE

    channel, url = await _channel(aiohttp_server, database, key="emulator|conv-1|act-2")
    app = await _app(aiohttp_client, tmp_path, database)
    await app.post("/api/messages", json=message("version", url, activity_id="act-1"))  # warmed up
    channel.rows.clear()
    db = app.server.app[SERVICES].db
    busy = [await db.reserve_commit() for _ in range(AT_ONCE)]  # every ledger connection taken
    turn = asyncio.create_task(app.post("/api/messages", json=message("version", url, activity_id="act-2")))
    await asyncio.sleep(0.5)
    assert channel.rows == [] and not turn.done()  # the reply waits, its turn's work all done
    db.unreserve(busy.pop())  # one connection free again
    answer = await asyncio.wait_for(turn, 10)
    assert answer.status < 300
    assert channel.rows == [LedgerRow(done=True, lease_held=True)]  # done as the channel read it
    for reserved in busy:
        db.unreserve(reserved)
    assert await _settled(channel) == _done(database)

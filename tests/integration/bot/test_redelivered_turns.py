"""Whole turns on two replicas sharing one database (SQLite and PostgreSQL), one of them killed.

A replica "dies" the way SIGKILL ends it: nothing after that point runs, its claim is neither marked
done nor released, and nothing renews its lease. The activity is then redelivered to the other one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

import dialogs.core
from bot.commands.grammar import arg
from bot.commands.registry import CommandSet
from bot.dedupe import DeliveryLedger
from policy.audit import AuditEntry, AuditLog
from testing.chat.turns import TurnHarness
from tests.support.databases import DatabaseUnderTest, database  # noqa: F401 - fixture

SHORT = 0.3  # seconds: the replicas' delivery lease, short enough to watch lapse
commands = CommandSet()
acted: list[str] = []  # the owner of each replica whose handler acted
doomed: set[str] = set()  # replicas (ledger owners) that die when their handler starts
died: asyncio.Event  # set when a doomed replica dies; a new one per test (events bind to a loop)


@commands.command("scale", "Scale an app.", params=[arg("app", "Which app")], roles=("deployer",))
async def scale(ctx, args):  # type: ignore[no-untyped-def]
    owner = ctx.services.ledger.owner
    if owner in doomed:
        died.set()
        await asyncio.Event().wait()  # killed before acting: never gets further
    acted.append(owner)
    return f"scaled {args.app}"


class Deployers:
    def roles_for(self, person: Any) -> frozenset[str]:
        return frozenset({"deployer"})


@asynccontextmanager
async def replicas(database: DatabaseUnderTest, tmp_path: Path) -> AsyncIterator[list[TurnHarness]]:  # noqa: F811
    global died
    acted.clear()
    doomed.clear()
    died = asyncio.Event()
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                TurnHarness.open(
                    tmp_path / name, [dialogs.core.commands, commands], roles=Deployers(),
                    database_url=database.url, database_schema=database.schema, delivery_lease=SHORT,
                )
            )
            for name in ("one", "two")
        ]  # fmt: skip


def sigkill(ledger: DeliveryLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on this replica's ledger does nothing: no renewal, no done, no release."""

    async def nothing(_key: str) -> None:
        return None

    monkeypatch.setattr(ledger, "finish", nothing)
    monkeypatch.setattr(ledger, "release", nothing)
    ledger._running.clear()  # its renewal task is gone with the process


async def test_a_turn_whose_replica_died_before_acting_runs_once_elsewhere(
    database: DatabaseUnderTest,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with replicas(database, tmp_path) as (one, two):
        doomed.add(one.services.ledger.owner)
        first = asyncio.create_task(one.say("scale web", activity_id="act-1"))
        await asyncio.wait_for(died.wait(), 10)
        sigkill(one.services.ledger, monkeypatch)
        first.cancel()
        with suppress(asyncio.CancelledError):
            await first
        await asyncio.gather(*(two.say("scale web", activity_id="act-1") for _ in range(2)))
    assert acted == [two.services.ledger.owner]
    assert two.adapter.texts() == ["scaled web"]  # the second redelivery waited and was dropped


async def test_a_command_that_acted_before_its_replica_died_is_not_run_again(
    database: DatabaseUnderTest,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with replicas(database, tmp_path) as (one, two):
        ledger = one.services.ledger

        async def killed_before_done(_key: str) -> None:
            sigkill(ledger, monkeypatch)  # the side effect, its audit entry and the state are saved
            died.set()
            await asyncio.Event().wait()

        monkeypatch.setattr(ledger, "finish", killed_before_done)
        first = asyncio.create_task(one.say("scale web", activity_id="act-1"))
        await asyncio.wait_for(died.wait(), 10)
        first.cancel()
        with suppress(asyncio.CancelledError):
            await first
        answer = await two.say("scale web", activity_id="act-1")
        entries = await AuditLog(two.services.db).latest()
    assert acted == [ledger.owner]  # once, on the replica that died
    assert len(answer) == 1
    assert answer[0].startswith("`scale` already ran for this message at ")
    assert "(ok, reference `" in answer[0] and "I did not run it again." in answer[0]
    assert [(e.outcome, e.activity_id) for e in entries] == [("ok", "msteams|conv-1|act-1")]


async def test_only_a_handler_outcome_means_the_command_acted(
    database: DatabaseUnderTest,  # noqa: F811
    tmp_path: Path,
) -> None:
    """`approved` is written before the handler runs: a turn retaken after it must still run it."""
    async with replicas(database, tmp_path) as (one, _two):
        audit = AuditLog(one.services.db)
        key = "msteams|conv-1|act-1"
        for outcome in ("confirmation_requested", "approved", "refused"):
            await audit.record(AuditEntry("alice", "delete", outcome, activity_id=key))
        assert await audit.acted(key, "delete") is None
        await audit.record(AuditEntry("alice", "delete", "failed", activity_id=key))
        await audit.record(AuditEntry("alice", "scale", "ok", activity_id="msteams|conv-1|act-2"))
        earlier = await audit.acted(key, "delete")
        assert earlier is not None and earlier.outcome == "failed"
        assert await audit.acted(key, "scale") is None

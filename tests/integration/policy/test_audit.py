"""The audit log on SQLite and PostgreSQL: append, read the latest, never store a secret."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.db import Database
from policy.audit import AuditEntry, AuditLog, scrub
from tests.support.databases import database, db  # noqa: F401 - fixtures: SQLite and PostgreSQL, migrated


@pytest.fixture
def log(db: Database) -> AuditLog:  # noqa: F811 - one schema per test on PostgreSQL: no shared rows
    return AuditLog(db)


def entry(n: int, **extra) -> AuditEntry:
    values = {
        "actor_id": f"slack:T1:U{n}",
        "actor_name": f"user {n}",
        "channel": "slack",
        "command": "deploy",
        "cluster": "eks:prod",
        "namespace": "shop",
        "app": "web",
        "outcome": "ok",
        "detail": "",
        "correlation_id": f"corr-{n}",
    }
    values.update(extra)
    return AuditEntry(**values)


async def test_entries_come_back_newest_first(log: AuditLog):
    for n in range(5):
        await log.record(entry(n))
    latest = await log.latest(3)
    assert [e.correlation_id for e in latest] == ["corr-4", "corr-3", "corr-2"]
    assert latest[0].id > latest[1].id and latest[0].at.tzinfo is not None
    assert latest[0].line.endswith("user 4: deploy @ eks:prod/shop/web: ok")


async def test_refusals_are_recorded_too(log: AuditLog):
    await log.record(entry(1, outcome="refused", detail="deploy needs the deployer role; you have viewer."))
    (row,) = await log.latest(5)
    assert row.outcome == "refused" and "needs the deployer role" in row.detail


async def test_unknown_outcomes_are_refused(log: AuditLog):
    with pytest.raises(ValueError, match="outcome"):
        await log.record(entry(1, outcome="maybe"))


async def test_no_secret_reaches_a_row(log: AuditLog):
    secrets = [
        "Bearer abcdefghijklmnop123",
        "k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8_QWN0aW9u",
        "password=hunter22",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl",
        "AKIAIOSFODNN7EXAMPLE",
        "https://admin:s3cr3t@db.example.com/x",
        "X-Amz-Signature=deadbeefcafe",
        "xoxb-1234567890-abcdef",
    ]
    await log.record(entry(1, detail=" | ".join(secrets), command="deploy token=abc123"))
    (row,) = await log.latest(1)
    stored = row.detail + row.command
    for secret in (
        "abcdefghijklmnop123",
        "aHR0cHM6",
        "hunter22",
        "c2lnbmF0dXJl",
        "AKIAIOSFODNN7EXAMPLE",
        "s3cr3t",
        "deadbeefcafe",
        "xoxb-1234567890",
        "abc123",
    ):
        assert secret not in stored
    assert stored.count("[redacted]") >= 8


def test_scrub_keeps_ordinary_text():
    text = "deploy web nginx:1.27 --volume data:/mnt to eks:prod/shop"
    assert scrub(text) == text
    assert scrub(None) == ""


async def test_timestamps_are_utc(log: AuditLog):
    naive = dt.datetime(2026, 1, 2, 3, 4, 5)
    await log.record(entry(1, at=naive))
    (row,) = await log.latest(1)
    assert row.at == naive.replace(tzinfo=dt.UTC)


async def test_the_pipeline_sink_appends_its_entries(log: AuditLog):
    await log.append(
        {
            "actor_key": "slack:T1:U9",
            "actor_name": "Nine",
            "channel": "slack",
            "command": "delete",
            "line": "delete web",
            "cluster": "fake",
            "namespace": "prod",
            "target": "web",
            "outcome": "confirmation_requested",
            "detail": "",
            "approver_key": "slack:T1:U2",
            "correlation_id": "c-9",
        }
    )
    (row,) = await log.latest(1)
    assert (row.actor_id, row.app, row.outcome, row.approver_id, row.line_text) == (
        "slack:T1:U9",
        "web",
        "confirmation_requested",
        "slack:T1:U2",
        "delete web",
    )


@pytest.mark.parametrize("outcome", ["approved", "refused", "cancelled", "expired"])
async def test_a_decision_on_a_confirmation_keeps_both_people(log: AuditLog, outcome):
    decided = entry(7, command="delete", outcome=outcome, approver_id="slack:T1:U2", detail="action 1f2e")
    await log.record(decided)
    (row,) = await log.latest(1)
    assert (row.actor_id, row.approver_id, row.outcome) == ("slack:T1:U7", "slack:T1:U2", outcome)
    assert row.line.endswith(f"user 7: delete @ eks:prod/shop/web: {outcome} by slack:T1:U2 — action 1f2e")


async def test_an_unknown_outcome_is_refused(log: AuditLog):
    with pytest.raises(ValueError, match="outcome must be one of"):
        await log.record(entry(1, outcome="approved-by-magic"))
    assert await log.latest(5) == []

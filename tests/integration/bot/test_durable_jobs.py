"""Jobs on PostgreSQL survive their replica: one replica is SIGKILLed mid-job, another resumes it and
edits the same progress message to the end (procrastinate's stalled-job retry, bot.jobs.durable)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys

import asyncpg
import pytest

from testing.chat.channel import FakeChannel
from testing.jobs import PROGRESS_ID, count_job, count_record, replica
from tests.support.databases import PG_URL, _drop, _pg_schema

pytestmark = pytest.mark.postgres


@pytest.fixture
async def schema():  # type: ignore[no-untyped-def]
    name = await _pg_schema()
    yield name
    await _drop(name)


@pytest.fixture
async def channel(aiohttp_server):  # type: ignore[no-untyped-def]
    fake = FakeChannel()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("/"))  # type: ignore[attr-defined]
    return fake


async def _until(check, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_job_whose_replica_is_killed_is_resumed_by_another_and_edits_the_same_message(
    schema, channel, tmp_path
):  # type: ignore[no-untyped-def]
    child = subprocess.Popen(
        [sys.executable, "-m", "testing.jobs", PG_URL, schema, channel.url, str(tmp_path / "a")],
        env={k: v for k, v in os.environ.items() if not k.startswith("K8OR_")},
    )
    try:
        await _until(lambda: len(channel.calls) >= 3, timeout=60)  # replica A is mid-job
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    before = len(channel.calls)
    assert not any(text.startswith("✓") for text in channel.texts)

    async with replica(PG_URL, schema, tmp_path / "b"):
        await _until(lambda: any(text.startswith("✓") for text in channel.texts), timeout=60)

    assert len(channel.calls) > before  # replica B did the rest
    assert {(call.method, call.activity_id) for call in channel.calls} == {("PUT", PROGRESS_ID)}
    assert channel.texts[-1] == "✓ counted to 8 (run 2)"
    assert channel.texts[0] == "⏳ step 1/8 (run 1)"


async def test_a_job_runs_on_the_replica_that_is_up(schema, channel, tmp_path):  # type: ignore[no-untyped-def]
    async with replica(PG_URL, schema, tmp_path) as queue:
        await queue.submit(count_record(channel.url, steps=3, pause=0.01), None, count_job)  # type: ignore[arg-type]
        await _until(lambda: any(text.startswith("✓") for text in channel.texts), timeout=30)
    assert channel.texts == [
        "⏳ step 1/3 (run 1)",
        "⏳ step 2/3 (run 1)",
        "⏳ step 3/3 (run 1)",
        "✓ counted to 3 (run 1)",
    ]
    assert {call.method for call in channel.calls} == {"PUT"}


async def test_a_stored_job_is_sealed_and_its_arguments_rest_in_no_plain_text(schema, channel, tmp_path):  # type: ignore[no-untyped-def]
    record = count_record(channel.url, steps=3, pause=0.5)  # in the table for a second and a half
    marker = "s3cr3t-typed-in-chat"
    record = dataclasses.replace(record, arguments={**record.arguments, "env": [["API_TOKEN", marker]]})
    async with replica(PG_URL, schema, tmp_path) as queue:
        await queue.submit(record, None, count_job)  # type: ignore[arg-type]
        stored = await _stored_jobs(schema)
        await _until(lambda: any(text.startswith("✓") for text in channel.texts), timeout=30)
    assert stored and all(marker not in row and "alice" not in row for row in stored)


async def _stored_jobs(schema: str) -> list[str]:
    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await conn.fetch(f'SELECT args::text AS args FROM "{schema}".procrastinate_jobs')
        return [row["args"] for row in rows]
    finally:
        await conn.close()

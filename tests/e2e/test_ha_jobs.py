"""A rollout follower outlives its replica: whole turns on real PostgreSQL, the fake API server, and a
replica that is a real `k8or serve` process, killed (SIGKILL) or stopped (SIGTERM) mid-follow.

Another replica (the real app, in this process) resumes the follower and edits the same progress
message to the end: one message, one audit entry for the outcome, however many runs it took.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

from bench.ha.replicas import Replica, base_env, shared_vault_key
from bot.identity import Person
from bot.jobs import JobRecord, requester_of
from bot.jobs.resume import run_record
from bot.keys import SERVICES
from bot.settings import Settings
from bot.wire import to_wire
from k8or.app import create_app
from k8or.wiring import job_kinds
from testing.chat.channel import FakeChannel, RecordedCall, message
from testing.kube import FakeKube
from testing.kube.fixture import standard_cluster
from tests.support.databases import PG_URL, _drop, _pg_schema

pytestmark = pytest.mark.postgres
OPS = "ops"  # an admin in the RBAC file
FAST = {"K8OR_JOB_HEARTBEAT": "0.5", "K8OR_JOB_STALLED_AFTER": "2", "K8OR_JOB_POLLING": "0.5"}
ROLLOUT_DONE = "✓ Rollout of `web` (revision 1): complete"


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    name = await _pg_schema()
    yield name
    await _drop(name)


@pytest.fixture
def cluster() -> Iterator[FakeKube]:
    """The fake API server, its controllers running (a test pauses them to hold a rollout)."""
    fake = standard_cluster()
    yield fake
    fake.stop()


@pytest.fixture
def kube_config(cluster: FakeKube, tmp_path: Path) -> Path:
    return cluster.write_kubeconfig(tmp_path / "kubeconfig", {"fake": "default"})


@pytest.fixture
def rbac(tmp_path: Path) -> Path:
    path = tmp_path / "rbac.yaml"
    path.write_text(yaml.safe_dump({"roles": {"admin": {"users": [f"emulator:{OPS}"]}}}))
    return path


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def first_replica(tmp_path: Path, schema: str, kube_config: Path, rbac: Path) -> Replica:
    """Replica 1: `k8or serve` in a process of its own, short job heartbeats."""
    settings = {"K8OR_KUBECONFIG": str(kube_config), "K8OR_RBAC_FILE": str(rbac), **FAST}
    return Replica("one", tmp_path / "one", base_env(schema, settings))


@asynccontextmanager
async def second_replica(
    tmp_path: Path, schema: str, kube_config: Path, rbac: Path, stalled_after: float
) -> AsyncIterator[TestServer]:
    """Replica 2: the real app in this process, on a port of its own, for the block's length."""
    settings = Settings(
        data_dir=tmp_path / "two",
        vault_key=shared_vault_key(),  # the first replica's: every replica opens every job record
        database_url=PG_URL,
        database_schema=schema,
        kubeconfig=str(kube_config),
        rbac_file=rbac,
        job_heartbeat=0.5,
        job_stalled_after=stalled_after,
        job_polling=0.5,
    )
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


async def say(session: aiohttp.ClientSession, url: str, channel: FakeChannel, text: str, n: int) -> None:
    body = message(text, channel.url, activity_id=f"ops-{n}", conversation="ops-room", user=OPS)  # type: ignore[attr-defined]
    async with session.post(url, json=body) as answer:
        assert answer.status < 300, await answer.text()


async def until(check, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def progress_id(channel: FakeChannel) -> str:
    """The id the channel gave the deploy's reply (its N-th message: `reply-N`)."""
    posts = [call for call in channel.calls if call.method == "POST"]
    deploy = next(i for i, call in enumerate(posts) if call.activity_id == "ops-2")
    return f"reply-{deploy + 1}"


def edits_of(channel: FakeChannel, message_id: str, after: int = 0) -> list[RecordedCall]:
    """The edits of `message_id` among the channel's calls from the `after`-th on."""
    return [c for c in channel.calls[after:] if c.method == "PUT" and c.activity_id == message_id]


async def start_follower_on(replica: Replica, session: aiohttp.ClientSession, channel: FakeChannel) -> str:
    """`cluster use` and `deploy` on replica 1, controllers paused: its follower is mid-follow."""
    await replica.start(session)
    await say(session, replica.url, channel, "cluster use fake", 1)
    await say(session, replica.url, channel, "deploy web nginx:1.27", 2)
    progress = progress_id(channel)
    await until(lambda: bool(edits_of(channel, progress)))  # the follower's first snapshot
    return progress


async def audited_outcomes(server: TestServer) -> list[str]:
    """The audit entries for the rollout's outcome, once the follower has written one."""
    deadline = time.monotonic() + 30
    while True:
        entries = await server.app[SERVICES].audit.latest(50)  # type: ignore[union-attr]
        outcomes = [e.outcome for e in entries if e.command == "deploy (rollout result)"]
        if outcomes or time.monotonic() > deadline:
            return outcomes
        await asyncio.sleep(0.05)


def assert_one_message_edited_to_the_end(channel: FakeChannel, progress: str, stopped_at: int) -> None:
    after_deploy = channel.calls[next(i for i, c in enumerate(channel.calls) if c.activity_id == "ops-2") :]
    assert [c.method for c in after_deploy].count("POST") == 1  # the progress message, nothing else
    assert {c.activity_id for c in after_deploy if c.method == "PUT"} == {progress}
    assert edits_of(channel, progress, after=stopped_at)  # the other replica kept editing it
    assert edits_of(channel, progress)[-1].body["text"].startswith(ROLLOUT_DONE)


async def test_a_follower_whose_replica_is_killed_is_resumed_by_another_and_ends_in_the_same_message(
    tmp_path: Path,
    schema: str,
    channel: FakeChannel,
    cluster: FakeKube,
    kube_config: Path,
    rbac: Path,
    session: aiohttp.ClientSession,
) -> None:
    replica = first_replica(tmp_path, schema, kube_config, rbac)
    cluster.paused = True
    try:
        progress = await start_follower_on(replica, session, channel)
    finally:
        replica.kill()  # SIGKILL: no hand-back, no drain; its job stays claimed by a dead worker
    killed_at = len(channel.calls)
    async with second_replica(tmp_path, schema, kube_config, rbac, stalled_after=2) as server:
        await until(lambda: bool(edits_of(channel, progress, after=killed_at)))  # resumed
        cluster.paused = False
        await until(lambda: edits_of(channel, progress)[-1].body["text"].startswith(ROLLOUT_DONE))
        assert_one_message_edited_to_the_end(channel, progress, killed_at)
        assert await audited_outcomes(server) == ["ok"]


async def test_a_replica_stopped_with_sigterm_hands_its_follower_back_at_once(
    tmp_path: Path,
    schema: str,
    channel: FakeChannel,
    cluster: FakeKube,
    kube_config: Path,
    rbac: Path,
    session: aiohttp.ClientSession,
) -> None:
    replica = first_replica(tmp_path, schema, kube_config, rbac)
    cluster.paused = True
    try:
        progress = await start_follower_on(replica, session, channel)
        # The other replica would take a dead replica's jobs only after ten minutes: a job it runs
        # now was handed back.
        async with second_replica(tmp_path, schema, kube_config, rbac, stalled_after=600) as server:
            stopped_at = len(channel.calls)
            await asyncio.to_thread(replica.terminate, 30)
            assert replica.proc is not None and replica.proc.returncode == 0  # it exited, cleanly
            await until(lambda: bool(edits_of(channel, progress, after=stopped_at)))
            cluster.paused = False
            await until(lambda: edits_of(channel, progress)[-1].body["text"].startswith(ROLLOUT_DONE))
            assert_one_message_edited_to_the_end(channel, progress, stopped_at)
            assert await audited_outcomes(server) == ["ok"]
    finally:
        replica.kill()


def follow_record(channel: FakeChannel, progress: str) -> JobRecord:
    """A rollout follower's job record, as `deploy` stores it, for message `progress`."""
    reference = ConversationReference(
        channel_id="emulator",
        service_url=channel.url,  # type: ignore[attr-defined]
        conversation=ConversationAccount(id="ops-room"),
        bot=ChannelAccount(id="k8or-bot", name="k8or"),
        user=ChannelAccount(id=OPS, name="Ops"),
    )
    return JobRecord(
        kind="cluster.follow",
        arguments={"app": "web", "action": "Rollout", "timeout": 20},
        command="deploy",
        line="deploy web nginx:1.27",
        correlation_id="cid-resumed",
        requester=requester_of(Person(key=f"emulator:{OPS}", channel="emulator", user_id=OPS)),
        roles=("admin",),
        cluster="fake",
        namespace="default",
        reference=to_wire(reference),
        activity_id=progress,
    )


async def test_a_follower_run_again_after_it_audited_its_outcome_does_not_audit_it_twice(
    tmp_path: Path, schema: str, channel: FakeChannel, cluster: FakeKube, kube_config: Path, rbac: Path
) -> None:
    """The replica died after the follower's last step but before the queue heard it succeed: the
    queue runs the job again (attempt 1), which shows the outcome again and audits nothing new."""
    cluster.add(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        }
    )
    async with second_replica(tmp_path, schema, kube_config, rbac, stalled_after=600) as server:
        services = server.app[SERVICES]
        for attempt in (0, 1):
            await run_record(services, job_kinds(), follow_record(channel, "progress-1"), attempt, "job-7")
        texts = [c.body["text"] for c in channel.calls]
        assert all(c.method == "PUT" and c.activity_id == "progress-1" for c in channel.calls)
        assert texts[-1].startswith(ROLLOUT_DONE) and sum(t.startswith(ROLLOUT_DONE) for t in texts) == 2
        assert await audited_outcomes(server) == ["ok"]

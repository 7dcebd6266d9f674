"""On-call with two replicas on one PostgreSQL and the leader killed (issue 13, done-when, second half).

Two replicas, each with its own services and alert desk as the app runs them (k8or.alerting), stand
for election over the watched cluster: in a pod, with a Lease in k8or's own namespace of the cluster
it runs in (a second fake API server over TLS with a mounted ServiceAccount); outside a cluster,
with a PostgreSQL advisory lock. Apps crash-loop; the leader is killed mid-stream: its election and
watches stop without handing anything over (the Lease is left to lapse; the advisory lock's session
is cut, as a dying process's is). The other replica takes over, sends what was not sent, resends
nothing, and a Rollback pressed on it turns the alert ✓.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from kubernetes.client import CoordinationV1Api

import dialogs.cluster
import dialogs.notify
from actions.alerting import NOTIFY, AlertDesk
from bot.settings import NotifySettings
from cluster.incluster import InClusterAccount
from cluster.leader import lease_name
from dialogs.cluster_targets import CLUSTERS, ClusterDirectory
from k8or.alerting import alert_desk, elections
from policy.rbac import policy_from_dict
from testing.chat.turns import RecordingAdapter, TurnHarness
from testing.kube.fixture import fake_kube, kubeconfig  # noqa: F401  (fixtures)
from testing.kube.incluster import InClusterFake
from tests.support.databases import PG_URL, _drop, _pg_schema

pytestmark = pytest.mark.postgres
CHANNEL = "webchat"
POLICY = {"roles": {"admin": {"users": ["webchat:alice"]}, "deployer": {"users": ["webchat:dave"]}}}
# Short, so a failover takes seconds: lease 3 s, renewals given up after 2 s, tries every second.
ELECTION = NotifySettings(lease_duration=3, renew_deadline=2, retry_period=1)
WAIT = 60.0
APPS = ("web", "api", "shop")


class Replica:
    """One k8or replica: its own services and turns, its alert desk, one shared database."""

    def __init__(self, harness: TurnHarness, desk: AlertDesk):
        self.harness, self.desk = harness, desk

    async def say(self, text: str | None, user: str = "alice", **kwargs: object) -> list[str]:
        replies = await self.harness.say(text, user=user, channel=CHANNEL, **kwargs)  # type: ignore[arg-type]
        await self.harness.settle()
        return replies


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    name = await _pg_schema()
    yield name
    await _drop(name)


@pytest.fixture
def home(tmp_path: Path) -> AsyncIterator[InClusterFake]:
    """The cluster k8or's pods run in, namespace `k8or`: where the election's Lease lives."""
    fake = InClusterFake(tmp_path / "serviceaccount", namespace="k8or").start()
    fake.add_namespace("k8or")
    yield fake  # type: ignore[misc]
    fake.stop()


async def until(check: Callable[[], object], what: str) -> object:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while loop.time() < deadline:
        if found := check():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def alerts(channel: RecordingAdapter, app: str) -> list:
    """The alert messages about `app` (each in its newest state)."""
    return [
        a for i in channel.order
        if (a := channel.messages[i]).text and f"**{app}**" in a.text
    ]  # fmt: skip


@pytest.mark.parametrize("where", ["in-a-pod", "outside-a-cluster"])
async def test_the_leader_killed_mid_stream_loses_no_alert_and_sends_none_twice(  # type: ignore[no-untyped-def]
    tmp_path,
    schema,
    fake_kube,  # noqa: F811
    kubeconfig,  # noqa: F811
    home,
    where,
) -> None:
    channel = RecordingAdapter()  # the chat both replicas' alerts reach
    account = InClusterAccount(home.account_dir, home.environ) if where == "in-a-pod" else None
    async with AsyncExitStack() as stack:

        async def replica(name: str) -> Replica:
            policy = policy_from_dict(POLICY)
            harness = await stack.enter_async_context(
                TurnHarness.open(
                    tmp_path / name,
                    [dialogs.cluster.commands, dialogs.notify.commands],
                    roles=policy,
                    database_url=PG_URL,
                    database_schema=schema,
                    notify=ELECTION,
                )
            )
            harness.services.approvals = policy
            harness.services.capabilities[CLUSTERS] = ClusterDirectory(
                kubeconfig=str(kubeconfig), rollout_timeout=20
            )
            harness.services.direct.default_adapter = channel  # type: ignore[union-attr]
            desk = await alert_desk(harness.services, elections(harness.services, account)).start()
            harness.services.capabilities[NOTIFY] = desk
            stack.push_async_callback(desk.stop)
            return Replica(harness, desk)

        first = await replica("one")
        await first.say("cluster use fake")
        await first.say("deploy web nginx:1.26")
        await first.say("notify on")
        await until(lambda: first.desk.leaders.leads("fake"), "the first replica to lead")
        second = await replica("two")
        await second.desk.refresh()

        await first.say("deploy web registry.example.com/crashloop:2")  # revision 2 crash-loops
        await until(lambda: alerts(channel, "web"), "the first alert")
        await first.desk.stop(release=False)  # killed: nothing handed over
        sent_before = alerts(channel, "web")[0].text
        for app in APPS[1:]:  # more trouble while nobody leads
            await second.say(f"deploy {app} registry.example.com/crashloop:1")

        await until(lambda: second.desk.leaders.leads("fake"), "the second replica to take over")
        assert not first.desk.leaders.leads("fake")
        if account is not None:
            lease = CoordinationV1Api(account.target().api_client()).read_namespaced_lease(
                lease_name("k8or-notify", "fake"), "k8or"
            )
            assert lease.spec.lease_transitions == 1 and lease.spec.lease_duration_seconds == 3

        def every_app_alerted_and_followed() -> bool:
            seen = {i.app for i in second.desk.incidents("fake", "default")}
            return seen >= set(APPS) and all(alerts(channel, app) for app in APPS)

        await until(every_app_alerted_and_followed, "an alert for every app, followed by the new leader")
        await second.desk.settled()
        sent = [len(alerts(channel, app)) for app in APPS]
        assert sent == [1, 1, 1], [
            a.text for app in APPS for a in alerts(channel, app)
        ]  # none lost, none twice
        assert (first.desk.sent, second.desk.sent) == (1, 2)  # web's followed, not sent again
        # The new leader edits the killed one's message as the restarts go on.
        await until(lambda: alerts(channel, "web")[0].text != sent_before, "web's alert edited")
        assert len(alerts(channel, "web")) == 1

        (alert,) = alerts(channel, "web")
        rollback = next(
            a["data"] for a in alert.attachments[0].content["actions"] if a["title"] == "Rollback"
        )
        await second.say(None, user="dave", value=rollback)  # pressed in a turn the survivor runs
        done = "✓ Rollback of `web` (revision 3): complete"
        # The rollout is followed by a job (on PostgreSQL, procrastinate's worker picks it up): the turn
        # ends before it does.
        await until(
            lambda: any(t.startswith(done) for t in second.harness.adapter.texts()), "the rollback's ✓"
        )
        entries = await second.harness.services.audit.latest(5)
        assert [(e.actor_id, e.outcome) for e in entries if e.command == "rollback"] == [
            ("webchat:dave", "ok")
        ]
        await until(lambda: alerts(channel, "web")[0].text.startswith("✓ resolved"), "the alert to turn ✓")
        assert alerts(channel, "web")[0].text == (
            "✓ resolved: **web** (CrashLoopBackOff) in `default` on `fake` is healthy again."
        )
        assert len(alerts(channel, "web")) == 1

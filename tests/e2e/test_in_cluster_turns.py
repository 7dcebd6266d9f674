"""k8or deployed with manifests/overlays/in-cluster: whole turns on the cluster it runs in, through its
mounted ServiceAccount, with exactly the permissions the overlay's ClusterRoles grant."""

from __future__ import annotations

import pytest

import dialogs.cluster
from cluster.incluster import InClusterAccount
from dialogs.cluster_targets import CLUSTERS, ClusterDirectory
from policy.rbac import policy_from_dict
from testing.chat.turns import TurnHarness
from testing.kube.incluster import InClusterFake
from tests.support.manifests import built, granted_rules

CHANNEL = "webchat"
POLICY = {"roles": {"admin": {"users": ["webchat:alice"]}}}
USR_FILES = {"bin/python3": 5_000_000, "lib/libc.so.6": 2_000_000}
# Granted for what this runbook cannot show: server-side apply is a PATCH, and a real API server also
# checks `create` when the Deployment is new; a claim not Bound at once is watched until it is
# (cluster/volumes.py), and the fake binds at once.
NOT_SEEN_HERE = {
    ("create", "deployments"),
    ("watch", "persistentvolumeclaims"),
    # The on-call alerts' list-then-watch of pods, events and jobs (tests/e2e/test_oncall_failover.py
    # runs them in a pod); the runbook here subscribes no conversation.
    ("watch", "pods"),
    ("watch", "events"),
    ("list", "jobs"),
}


@pytest.fixture
def pod(tmp_path):
    fake = InClusterFake(tmp_path / "serviceaccount", namespace="apps").start()
    for ns in ("default", "apps"):
        fake.add_namespace(ns)
    fake.add_node("node-1")
    granted = granted_rules(built("in-cluster"))
    # The fake authorizes by (verb, plural): pods/log is a `get` on pods there.
    fake.rbac = {"k8or-test": {(verb, resource.split("/")[0]) for verb, resource in granted}}
    fake.granted = granted
    yield fake
    fake.stop()


@pytest.fixture
async def bot(tmp_path, pod):
    account = InClusterAccount(pod.account_dir, pod.environ)
    async with TurnHarness.open(
        tmp_path, [dialogs.cluster.commands], roles=policy_from_dict(POLICY)
    ) as harness:
        harness.services.capabilities[CLUSTERS] = ClusterDirectory(in_cluster=account, rollout_timeout=20)
        yield harness


async def say(bot, text):
    replies = await bot.say(text, user="alice", channel=CHANNEL)
    await bot.settle()
    return replies


def latest(bot) -> str:
    return bot.adapter.texts()[-1]


def _used(pod) -> set[tuple[str, str]]:
    return {(r.verb, r.plural + ("/log" if r.path.endswith("/log") else "")) for r in pod.api_requests()}


async def test_the_runbook_on_the_cluster_k8or_runs_in(bot, pod):
    assert "choices: in-cluster" in (await say(bot, "cluster use"))[0]  # offered, and the answer taken:
    assert "Using cluster `in-cluster`, namespace `apps`" in (await say(bot, "in-cluster"))[0]
    assert "✓ StorageClass `gp3` created" in (await say(bot, "storage create gp3"))[0]
    assert "all good" in (await say(bot, "preflight"))[0]
    assert "✓ Claim `data` is Bound" in (await say(bot, "volume create data --size 1Gi --class gp3"))[0]
    await say(bot, "volume create usr-data --size 1Gi --class gp3")
    pod.seed_claim("apps", "usr-data", USR_FILES)
    await say(bot, "deploy web nginx:1.27 --volume data:/mnt --volume usr-data:/usr")
    assert latest(bot).startswith("✓ Rollout of `web` (revision 1): complete")
    await say(bot, "deploy web nginx:1.28 --volume data:/mnt --volume usr-data:/usr")
    await say(bot, "rollback web --to-revision 1")
    assert latest(bot).startswith("✓ Rollback of `web` (revision 3): complete")
    assert "`web` 1/1 available" in (await say(bot, "status"))[0]
    await say(bot, "migrate web --from /usr --to /mnt --claim data")
    await say(bot, "yes")
    assert latest(bot).startswith("✓ copied /usr → /mnt (claim data)")
    await say(bot, "delete web")
    await say(bot, "yes")
    assert latest(bot).startswith("✓ Deleted `web`:")
    assert [r for r in pod.requests if r.verb == "unauthenticated"] == []


async def test_the_roles_grant_what_the_commands_use_and_nothing_more(bot, pod):
    await test_the_runbook_on_the_cluster_k8or_runs_in(bot, pod)
    used = _used(pod)
    assert used <= pod.granted, used - pod.granted
    assert pod.granted - used <= NOT_SEEN_HERE, pod.granted - used

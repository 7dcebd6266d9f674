"""Whole turns for the Kubernetes commands: the real pipeline, the fake cluster, the real library."""

from __future__ import annotations

import uuid

import pytest

import dialogs.cluster
from dialogs.cluster_targets import CLUSTERS, ClusterDirectory
from policy.rbac import policy_from_dict
from testing.chat.turns import TurnHarness
from testing.kube.fixture import fake_kube, kubeconfig  # noqa: F401  (fixtures)

# Web Chat is a channel whose identity k8or cannot verify: people are their channel keys there.
CHANNEL = "webchat"
POLICY = {
    "roles": {
        "admin": {"users": ["webchat:alice"]},
        "oncall": {"users": ["webchat:bob"]},
        "deployer": {"users": ["webchat:dave"]},
        "viewer": {"users": ["webchat:vic"]},
    },
    "namespaces": {"prod": {"two_person": True}},
}
USR_FILES = {"bin/python3": 5_000_000, "lib/libc.so.6": 2_000_000}


@pytest.fixture
async def bot(tmp_path, fake_kube, kubeconfig):  # noqa: F811
    policy = policy_from_dict(POLICY)
    async with TurnHarness.open(tmp_path, [dialogs.cluster.commands], roles=policy) as harness:
        harness.services.approvals = policy
        harness.services.capabilities[CLUSTERS] = ClusterDirectory(
            kubeconfig=str(kubeconfig), rollout_timeout=20
        )
        harness.fake = fake_kube
        yield harness


async def say(bot, text, user="alice", **kwargs):
    replies = await bot.say(text, user=user, channel=CHANNEL, **kwargs)
    await bot.settle()
    return replies


def latest(bot) -> str:
    """The current text of the newest message (progress messages are edited in place)."""
    return bot.adapter.texts()[-1]


async def test_the_runbook_as_a_conversation(bot):
    assert "Using cluster `fake`, namespace `default`" in (await say(bot, "cluster use fake"))[0]
    assert "✗ Storage classes" in (await say(bot, "preflight"))[0]
    assert "✓ StorageClass `gp3` created" in (await say(bot, "storage create gp3"))[0]
    assert "✓ Claim `data` is Bound" in (await say(bot, "volume create data --size 10Gi --class gp3"))[0]
    await say(bot, "volume create usr-data --size 5Gi --class gp3")
    assert "all good" in (await say(bot, "preflight"))[0]
    bot.fake.seed_claim("default", "usr-data", USR_FILES)

    await say(bot, "deploy web nginx:1.27 --replicas 2 --volume data:/mnt --volume usr-data:/usr")
    assert latest(bot).startswith("✓ Rollout of `web` (revision 1): complete")

    asked = await say(bot, "migrate web --from /usr --to /mnt --claim data")
    assert "is destructive" in asked[0]
    await say(bot, "yes")
    assert latest(bot).startswith("✓ copied /usr → /mnt (claim data)") and "match ✓" in latest(bot)

    await say(bot, "delete web")
    await say(bot, "yes")
    text = latest(bot)
    assert text.startswith("✓ Deleted `web`:") and "Pods: 2 gone" in text and "ReplicaSets: 1 gone" in text

    await say(bot, "deploy web nginx:1.27 --volume usr-data:/usr")
    assert latest(bot).startswith("✓ Rollout of `web` (revision 1): complete")
    assert "`web` 1/1 available" in (await say(bot, "status"))[0]

    entries = await bot.services.audit.latest(100)
    commands = {e.command for e in entries}
    assert {
        "cluster use",
        "preflight",
        "storage create",
        "volume create",
        "deploy",
        "migrate",
        "delete",
        "status",
    } <= commands
    assert all(e.cluster == "fake" for e in entries if e.command != "cluster use")


async def test_rollback_progress_lives_in_one_message(bot):
    await say(bot, "cluster use fake")
    for image in ("nginx:1.26", "nginx:1.27"):
        await say(bot, f"deploy web {image}")
    listing = (await say(bot, "rollback web"))[0]
    assert "- 2: `nginx:1.27`" in listing and "← current" in listing and "- 1: `nginx:1.26`" in listing
    before_messages, before_updates = len(bot.adapter.order), len(bot.adapter.updates)
    await say(bot, "rollback web --to-revision 1")
    assert len(bot.adapter.order) == before_messages + 1  # one message…
    assert len(bot.adapter.updates) > before_updates  # …edited in place
    assert latest(bot).startswith("✓ Rollback of `web` (revision 3): complete")
    assert "nginx:1.26" in (await say(bot, "status web"))[0]


async def test_a_failed_rollout_names_the_pod_and_reason(bot):
    await say(bot, "cluster use fake")
    await say(bot, "deploy web registry.example.com/doesnotexist:1")
    text = latest(bot)
    assert text.startswith("✗ Rollout of `web`") and "reason: ImagePullBackOff" in text and "pod web-" in text
    (result,) = [e for e in await bot.services.audit.latest(10) if e.command == "deploy (rollout result)"]
    assert result.outcome == "failed" and "ImagePullBackOff" in result.detail and result.app == "web"


@pytest.mark.parametrize(
    "line",
    [
        "preflight",
        "storage create gp3",
        "volume create data --size 1Gi",
        "deploy web nginx:1",
        "status",
        "rollback web",
        "migrate web --claim data",
        "delete web",
        "audit",
    ],
)
async def test_every_step_is_refused_without_a_role_and_audited(bot, line):
    await say(bot, "cluster use fake")
    reply = (await say(bot, line, user="mallory"))[0]
    assert "needs the role" in reply
    (entry,) = [e for e in await bot.services.audit.latest(10) if e.actor_id.endswith("mallory")]
    assert entry.outcome == "refused" and entry.detail.startswith("needs")
    assert [r for r in bot.fake.api_requests() if r.verb != "list" or r.plural != "namespaces"] == []


async def test_roles_are_ordered(bot):
    await say(bot, "cluster use fake")
    assert "needs the role `oncall`" in (await say(bot, "delete web", user="dave"))[0]
    assert "needs the role `admin`" in (await say(bot, "audit", user="bob"))[0]
    assert "No deployments" in (await say(bot, "status", user="vic"))[0]


async def test_invalid_names_never_reach_the_cluster(bot):
    await say(bot, "cluster use fake")
    reply = (await say(bot, "deploy Web_App nginx:1"))[0]
    assert "not a valid DNS-1123 label" in reply
    assert bot.fake.api_requests() == []


async def test_api_errors_are_one_line(bot):
    await say(bot, "cluster use fake")
    reply = (await say(bot, "status ghost"))[0]
    assert 'deployments.apps "ghost" not found' in reply and "\n" not in reply.split("Reference")[0].strip()


async def test_two_person_rule_in_prod(bot):
    bot.fake.add_namespace("prod")
    await say(bot, "cluster use fake")
    await say(bot, "ns prod")
    await say(bot, "deploy web nginx:1.27")
    assert "second person" in (await say(bot, "delete web"))[0]
    assert "someone other than" in (await say(bot, "yes"))[0]
    assert bot.fake.get("Deployment", "web", "prod") is not None
    approved = await say(bot, "yes", user="bob")
    assert approved[0] == "Deleting `web` in `prod` on `fake`: asked by Alice, approved by Bob."
    assert latest(bot).startswith("✓ Deleted `web`")
    decided = [e for e in await bot.services.audit.latest(20) if e.command == "delete"]
    assert [(e.outcome, e.actor_id, e.approver_id) for e in reversed(decided)] == [
        ("confirmation_requested", "webchat:alice", ""),
        ("refused", "webchat:alice", "webchat:alice"),
        ("approved", "webchat:alice", "webchat:bob"),
        ("ok", "webchat:alice", "webchat:bob"),
    ]


async def test_deploy_pins_the_tag_to_the_registry_digest(bot):
    digest = "sha256:" + "cd" * 32

    async def resolve(ctx, image):
        return digest if image == "nginx:1.27" else None

    bot.services.capabilities[CLUSTERS].resolve_digest = resolve
    await say(bot, "cluster use fake")
    await say(bot, "deploy web nginx:1.27")
    image = bot.fake.get("Deployment", "web", "default")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == f"nginx:1.27@{digest}"


async def test_eks_cluster_through_the_persons_aws_session(bot, monkeypatch):
    import boto3
    from moto.server import ThreadedMotoServer

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        session = boto3.Session(region_name="eu-west-1")
        name = f"shop-{uuid.uuid4().hex[:6]}"
        session.client("eks", endpoint_url=url).create_cluster(
            name=name, roleArn="arn:aws:iam::123456789012:role/eks", resourcesVpcConfig={"subnetIds": ["s-1"]}
        )

        async def aws_session(ctx):
            return session

        clusters = bot.services.capabilities[CLUSTERS]
        clusters.aws_session, clusters.eks_region = aws_session, "eu-west-1"
        clusters.eks_endpoint_url = clusters.sts_endpoint_url = url
        assert f"Using cluster `eks:{name}`" in (await say(bot, f"cluster use eks:{name}"))[0]
        report = (await say(bot, "preflight"))[0]
        assert "✓ AWS identity: arn:aws:" in report and "✗ Cluster reachable" in report
    finally:
        server.stop()


async def test_impersonation_lets_the_clusters_own_rbac_decide(bot):
    bot.services.capabilities[CLUSTERS].impersonate = True
    bot.fake.rbac = {"webchat:alice": {("list", "deployments"), ("list", "pods"), ("list", "events")}}
    await say(bot, "cluster use fake")
    assert "No deployments" in (await say(bot, "status"))[0]
    refused = (await say(bot, "storage create gp3"))[0]
    assert 'User "webchat:alice" cannot create resource "storageclasses"' in refused
    assert {r.impersonate_user for r in bot.fake.api_requests()} == {"webchat:alice"}


async def test_a_deploy_whose_pods_admission_refuses_fails_at_once_with_the_reason(bot):
    """A quota on CPU limits refuses every pod k8or's deploy makes (it sets no CPU limit): the person
    reads why in the progress message within seconds, not a bare ProgressDeadlineExceeded ten minutes
    later (issue 17)."""
    bot.fake.add(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "compute", "namespace": "default"},
            "spec": {"hard": {"limits.cpu": "2"}},
        }
    )
    await say(bot, "cluster use fake")
    await say(bot, "deploy web nginx:1.27")
    text = latest(bot)
    assert text.startswith("✗ Rollout of `web`"), text
    assert "reason: FailedCreate" in text
    assert "failed quota: compute: must specify limits.cpu for: web" in text

"""Issue 8, item 1 (impersonation): with `impersonate: true`, k8or sent `Impersonate-User` /
`Impersonate-Group` built from what the client wrote, `system:masters` included. Now the headers come
only from trusted identity, and Kubernetes' `system:` names are never sent."""

from __future__ import annotations

import kubernetes.client
import pytest

from bot.settings import Settings
from cluster.errors import TargetError
from cluster.target import Impersonation, from_kubeconfig
from k8or.app import create_app
from testing.chat.channel import message
from testing.kube import fixture as kube_fixtures
from tests.security import identity_harness as harness

# Fixtures from the shared harnesses, under their own names.
channel = harness.channel
fake_kube, kubeconfig = kube_fixtures.fake_kube, kube_fixtures.kubeconfig

RBAC = """
roles:
  viewer: {users: ["webchat:vic", "bf-system:masters"]}
impersonate: true
"""
FORGED = {"k8or_email": "system:admin", "k8or_groups": ["system:masters", "system:nodes", "aad-group:x"]}


@pytest.mark.parametrize(
    ("channel_id", "user", "seen_as"),
    [("webchat", "vic", "webchat:vic"), ("system", "masters", "bf-system:masters")],
)
async def test_the_cluster_sees_only_the_trusted_identity(
    aiohttp_client,
    tmp_path,
    channel,
    fake_kube,
    kubeconfig,
    channel_id,
    user,
    seen_as,
):
    rbac = tmp_path / "rbac.yaml"
    rbac.write_text(RBAC)
    settings = Settings(data_dir=tmp_path, rbac_file=rbac, kubeconfig=str(kubeconfig))
    client = await aiohttp_client(create_app(settings))
    for n, text in enumerate(("cluster use fake", "status")):
        body = message(
            text, channel.url, channel=channel_id, user=user, activity_id=f"i-{n}", channelData=FORGED
        )
        assert (await client.post("/api/messages", json=body)).status == 201
    replies = [c.body["text"] for c in await channel.wait_for(2)]
    assert "Using cluster `fake`" in replies[0] and "needs the role" not in replies[1]
    requests = fake_kube.api_requests()
    assert requests, "the status command reached the cluster"
    assert {r.impersonate_user for r in requests} == {seen_as}
    assert all(r.impersonate_groups == [] for r in requests)


def test_system_users_are_refused_and_system_groups_never_sent(fake_kube, kubeconfig):
    with pytest.raises(TargetError, match="system:"):
        Impersonation("system:admin")
    with pytest.raises(TargetError):
        Impersonation(" System:Masters")
    with pytest.raises(TargetError):
        Impersonation("ana@example.com\nImpersonate-Group: system:masters")
    groups = ("system:masters", "SYSTEM:authenticated", "aad-group:1", "a\nsystem:masters", "slack:T1:S1")
    person = Impersonation("ana@example.com", groups)
    assert person.groups == ("aad-group:1", "slack:T1:S1")
    target = from_kubeconfig(str(kubeconfig), "fake").impersonating(person)
    with target.api_client() as api:
        kubernetes.client.CoreV1Api(api).list_namespaced_pod("default")
    sent = fake_kube.api_requests()[-1]
    assert sent.impersonate_user == "ana@example.com"
    assert sent.impersonate_groups == ["aad-group:1", "slack:T1:S1"]

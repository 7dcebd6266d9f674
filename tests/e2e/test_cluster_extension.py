"""The app installs RBAC (from K8OR_RBAC_FILE) and audit; the cluster extension adds the directory."""

from __future__ import annotations

import dialogs.cluster
from k8or.wiring import cluster_extension, split_image
from testing.chat.turns import TurnHarness
from testing.kube.fixture import fake_kube, kubeconfig  # noqa: F401  (fixtures)

RBAC = """
roles:
  deployer: {users: [dave]}
"""


async def test_extension_installs_policy_audit_and_directory(tmp_path, fake_kube, kubeconfig):  # noqa: F811
    rbac = tmp_path / "rbac.yaml"
    rbac.write_text(RBAC)
    async with TurnHarness.open(
        tmp_path, [dialogs.cluster.commands], rbac_file=rbac, kubeconfig=str(kubeconfig)
    ) as bot:
        running = cluster_extension(None, bot.services)
        await anext(running)
        assert (await bot.say("cluster use fake", user="dave", channel="console"))[0].startswith(
            "Using cluster"
        )
        assert "needs the role" in (await bot.say("cluster use fake", user="eve", channel="console"))[0]
        eks = (await bot.say("cluster use eks:prod", user="dave", channel="console"))[0]
        assert "Sign-in is not configured" in eks
        entries = await bot.services.audit.latest(10)
        assert {e.outcome for e in entries} >= {"ok", "refused"}
        await anext(running, None)


def test_split_image():
    assert split_image("nginx") == ("nginx", "latest")
    assert split_image("nginx:1.27") == ("nginx", "1.27")
    assert split_image("registry.example.com:5000/team/app:v2") == (
        "registry.example.com:5000/team/app",
        "v2",
    )

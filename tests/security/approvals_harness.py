"""Whole turns for the confirmation attacks: the real pipeline, RBAC policy, audit log and cluster
commands, against the fake Kubernetes API server, in one group chat on an unverified channel
(Web Chat), where a person is known by the channel key `webchat:<id>`.

Import the fixtures into a test module:
`from tests.security.approvals_harness import approvals_bot, fake_kube, kubeconfig  # noqa: F401`;
tests then ask for `bot`.
"""

from __future__ import annotations

from typing import Any

import pytest

import dialogs.cluster
from dialogs.cluster_targets import CLUSTERS, ClusterDirectory
from policy.audit import AuditEntry, AuditLog
from policy.rbac import policy_from_dict
from testing.chat.turns import TurnHarness
from testing.kube.fixture import fake_kube, kubeconfig  # noqa: F401  (fixtures)

CHANNEL = "webchat"
POLICY: dict[str, Any] = {
    "roles": {
        "oncall": {"users": ["webchat:alice", "webchat:bob", "webchat:carol"]},
        "deployer": {"users": ["webchat:dave"]},
        "viewer": {"users": ["webchat:vic"]},
    },
    "namespaces": {"prod": {"two_person": True}},
}
DECISIONS = {"approved", "refused", "cancelled", "expired"}


@pytest.fixture(name="bot")
async def approvals_bot(tmp_path, fake_kube, kubeconfig):  # noqa: F811
    """The harness, with namespaces `dev` and `prod` in the fake cluster and `cluster use fake` done."""
    policy = policy_from_dict(POLICY)
    async with TurnHarness.open(tmp_path, [dialogs.cluster.commands], roles=policy) as harness:
        harness.services.approvals = policy
        harness.services.audit = AuditLog(harness.services.db)
        harness.services.capabilities[CLUSTERS] = ClusterDirectory(
            kubeconfig=str(kubeconfig), rollout_timeout=20
        )
        harness.fake = fake_kube
        harness.kubeconfig = kubeconfig
        for namespace in ("dev", "prod"):
            fake_kube.add_namespace(namespace)
        await say(harness, "cluster use fake")
        yield harness


async def say(bot: TurnHarness, text: str | None, user: str = "alice", **kwargs: Any) -> list[str]:
    """One turn in the shared room as `user`, then wait for the work it started in the background."""
    replies = await bot.say(text, user=user, channel=CHANNEL, is_group=True, **kwargs)
    await bot.settle()
    return replies


async def press(bot: TurnHarness, action_id: str, decision: str = "yes", user: str = "alice") -> list[str]:
    """Press a confirmation card's button: what the card submits is the action id and the decision."""
    return await say(bot, None, user=user, value={"k8or_confirm": action_id, "decision": decision})


def last_card_id(bot: TurnHarness) -> str:
    """The action id the newest confirmation card carries on its Confirm button."""
    for activity_id in reversed(bot.adapter.order):
        for attachment in bot.adapter.messages[activity_id].attachments or ():
            for action in attachment.content.get("actions", []):
                return action["data"]["k8or_confirm"]
    raise AssertionError("no confirmation card was sent")


async def deploy(bot: TurnHarness, app: str, namespace: str, user: str = "alice") -> None:
    """Deploy `app` into `namespace` through chat and wait for the rollout."""
    await say(bot, f"ns {namespace}", user=user)
    await say(bot, f"deploy {app} nginx:1.27", user=user)
    assert exists(bot, app, namespace), bot.adapter.texts()[-1]


def exists(bot: TurnHarness, app: str, namespace: str) -> bool:
    return bot.fake.get("Deployment", app, namespace) is not None


def deletes(bot: TurnHarness, namespace: str | None = None) -> list[Any]:
    """Every delete request the fake API server received (in `namespace`, when given)."""
    found = [r for r in bot.fake.api_requests() if r.method == "DELETE"]
    return [r for r in found if namespace is None or f"/namespaces/{namespace}/" in r.path]


async def decisions(bot: TurnHarness, command: str = "delete") -> list[AuditEntry]:
    """The audit entries for decisions on `command`, oldest first."""
    entries = await bot.services.audit.latest(200)
    return [e for e in reversed(entries) if e.command == command and e.outcome in DECISIONS]

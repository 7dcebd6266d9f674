"""Attack: ask for a destructive action while holding the role, lose the role (an admin revokes
it), then have it confirmed -- by oneself, or by a second person under the two-person rule.

The requester's role is checked again at confirmation; the action is refused, withdrawn and
audited, and nothing changes in the cluster.
"""

from __future__ import annotations

import copy

import pytest

from policy.rbac import policy_from_dict
from tests.security.approvals_harness import (  # noqa: F401  (fixtures)
    POLICY,
    approvals_bot,
    decisions,
    deletes,
    deploy,
    exists,
    fake_kube,
    kubeconfig,
    last_card_id,
    press,
    say,
)


def revoke(harness, key: str) -> None:
    """The RBAC file without `key`, as an operator reloading it would leave things."""
    policy = copy.deepcopy(POLICY)
    for rule in policy["roles"].values():
        rule["users"] = [u for u in rule["users"] if u != key]
    harness.services.roles = policy_from_dict(policy)


@pytest.mark.parametrize(("namespace", "approver"), [("dev", "alice"), ("prod", "bob")])
async def test_confirmation_after_the_requester_lost_the_role_is_refused(bot, namespace, approver):
    await deploy(bot, "web", namespace)
    await say(bot, f"ns {namespace}")
    await say(bot, "delete web")
    action_id = last_card_id(bot)
    revoke(bot, "webchat:alice")

    refused = await press(bot, action_id, user=approver)

    assert refused[0] == (
        f"Deleting `web` in `{namespace}` on `fake` was not run: Alice no longer holds the role "
        "`oncall` that `delete` needs. Nothing was done; the request is withdrawn."
    )
    assert exists(bot, "web", namespace) and deletes(bot) == []
    (entry,) = await decisions(bot)
    assert (entry.outcome, entry.actor_id, entry.approver_id) == (
        "refused",
        "webchat:alice",
        f"webchat:{approver}",
    )
    assert "role changed" in entry.detail
    # Withdrawn: a later confirmation finds nothing to run, even once the role is back.
    bot.services.roles = policy_from_dict(POLICY)
    assert "no longer waiting" in (await press(bot, action_id, user=approver))[0]
    assert exists(bot, "web", namespace) and deletes(bot) == []

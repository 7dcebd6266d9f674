"""Attack: under the two-person rule, the requester approves his own destructive action -- by
switching the conversation to a namespace without the rule, by a typed `yes`, `yes <id>` or the
card's own button.

The two-person flag is fixed when the action is asked for, from its recorded namespace; a
confirmation by the requester is always refused, audited, and changes nothing.
"""

from __future__ import annotations

import pytest

from tests.security.approvals_harness import (  # noqa: F401  (fixtures)
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


@pytest.mark.parametrize("how", ["typed", "typed-with-id", "button"])
async def test_requester_cannot_approve_after_switching_to_a_namespace_without_the_rule(bot, how):
    await deploy(bot, "web", "prod")
    await say(bot, "ns prod")
    assert "two-person rule in `prod`" in (await say(bot, "delete web"))[0]
    action_id = last_card_id(bot)
    await say(bot, "ns dev")  # no two-person rule here

    if how == "button":
        refused = await press(bot, action_id)
    else:
        refused = await say(bot, "yes" if how == "typed" else f"yes {action_id}")

    assert "needs someone other than Alice to approve `delete web`" in refused[0]
    assert exists(bot, "web", "prod") and deletes(bot) == []
    (entry,) = await decisions(bot)
    assert (entry.outcome, entry.actor_id, entry.approver_id) == ("refused", "webchat:alice", "webchat:alice")
    assert entry.namespace == "prod" and "two-person" in entry.detail

    approved = await say(bot, "yes", user="bob")  # still waiting: the right person can approve it
    assert approved[0] == "Deleting `web` in `prod` on `fake`: asked by Alice, approved by Bob."
    assert not exists(bot, "web", "prod")
    last = (await decisions(bot))[-1]
    assert (last.outcome, last.actor_id, last.approver_id) == ("approved", "webchat:alice", "webchat:bob")


async def test_an_approver_without_the_role_is_refused(bot):
    await deploy(bot, "web", "prod")
    await say(bot, "ns prod")
    await say(bot, "delete web")
    action_id = last_card_id(bot)

    refused = await press(bot, action_id, user="dave")  # a deployer; delete needs oncall

    assert "Approving `delete web` needs the role `oncall`" in refused[0]
    assert exists(bot, "web", "prod") and deletes(bot) == []
    (entry,) = await decisions(bot)
    assert (entry.outcome, entry.actor_id, entry.approver_id) == ("refused", "webchat:alice", "webchat:dave")

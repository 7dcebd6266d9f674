"""Attack: a typed `yes` when more than one action waits, hoping it approves whichever is pending.

A plain `yes` counts only when exactly one action waits for that person in the conversation;
otherwise it is refused with every candidate named, and the card's id (or `yes <id>`) decides.
"""

from __future__ import annotations

from tests.security.approvals_harness import (  # noqa: F401  (fixtures)
    approvals_bot,
    decisions,
    deletes,
    deploy,
    exists,
    fake_kube,
    kubeconfig,
    last_card_id,
    say,
)


async def test_approver_with_two_waiting_two_person_actions_must_name_one(bot):
    await deploy(bot, "web", "prod")
    await deploy(bot, "api", "prod")
    await say(bot, "ns prod")
    await say(bot, "delete web", user="alice")
    web_id = last_card_id(bot)
    await say(bot, "delete api", user="carol")
    api_id = last_card_id(bot)

    refused = (await say(bot, "yes", user="bob"))[0]

    assert "Several actions wait for your decision" in refused
    assert f"`{web_id}`: Deleting `web` in `prod` on `fake`, asked by Alice" in refused
    assert f"`{api_id}`: Deleting `api` in `prod` on `fake`, asked by Carol" in refused
    assert exists(bot, "web", "prod") and exists(bot, "api", "prod") and deletes(bot) == []
    audited = await decisions(bot)
    assert {(e.actor_id, e.approver_id, e.outcome) for e in audited} == {
        ("webchat:alice", "webchat:bob", "refused"),
        ("webchat:carol", "webchat:bob", "refused"),
    }

    named = await say(bot, f"yes {api_id}", user="bob")
    assert named[0] == "Deleting `api` in `prod` on `fake`: asked by Carol, approved by Bob."
    assert not exists(bot, "api", "prod") and exists(bot, "web", "prod")


async def test_typed_yes_only_ever_means_the_persons_own_single_action(bot):
    await deploy(bot, "web", "dev")
    await deploy(bot, "api", "dev")
    await say(bot, "ns dev")
    await say(bot, "delete web", user="alice")
    await say(bot, "delete api", user="carol")

    mine = await say(bot, "yes", user="alice")

    assert mine[0] == "Deleting `web` in `dev` on `fake`."
    assert not exists(bot, "web", "dev")
    assert exists(bot, "api", "dev"), "alice's yes approved carol's delete"
    assert "Nothing here is waiting for your decision" in (await say(bot, "yes", user="bob"))[0]
    assert exists(bot, "api", "dev")
    assert len(deletes(bot, "dev")) == len(deletes(bot))  # nothing outside dev either

"""Attack: press a confirmation card whose id is not the action one means to approve -- an old
card from an action already run, a card from another conversation, a made-up id, or another
person's card.

The card's id selects exactly one waiting action in this conversation or nothing; the decision
is then checked like any other. Nothing is deleted by a card that does not match.
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
    press,
    say,
)


async def test_an_old_card_does_not_approve_a_newer_action(bot):
    await deploy(bot, "web", "dev")
    await say(bot, "ns dev")
    await say(bot, "delete web")
    old_id = last_card_id(bot)
    await press(bot, old_id)
    assert not exists(bot, "web", "dev")
    await deploy(bot, "web", "dev")
    await say(bot, "ns dev")
    await say(bot, "delete web")  # a new action, with a new card
    assert last_card_id(bot) != old_id
    before = len(deletes(bot))

    replies = await press(bot, old_id)

    assert replies == [
        "That confirmation is no longer waiting here (done, cancelled or expired); nothing was done."
    ]
    assert exists(bot, "web", "dev") and len(deletes(bot)) == before


async def test_a_card_from_another_conversation_or_a_made_up_id_does_nothing(bot):
    await deploy(bot, "web", "dev")
    await say(bot, "ns dev")
    await say(bot, "delete web")
    action_id = last_card_id(bot)

    elsewhere = await press_in(bot, action_id, "conv-other")
    made_up = await press(bot, "0123456789abcdef")

    assert "no longer waiting here" in elsewhere[0] and "no longer waiting here" in made_up[0]
    assert exists(bot, "web", "dev") and deletes(bot) == []


async def test_another_persons_card_is_refused_and_kept_for_its_owner(bot):
    await deploy(bot, "web", "dev")
    await say(bot, "ns dev")
    await say(bot, "delete web")
    action_id = last_card_id(bot)

    by_bob = await press(bot, action_id, user="bob")
    by_mallory = await press(bot, action_id, "no", user="mallory")

    assert by_bob == ["Only Alice can confirm `delete web`."] and by_mallory == by_bob
    assert exists(bot, "web", "dev") and deletes(bot) == []
    audited = await decisions(bot)
    assert [(e.outcome, e.actor_id, e.approver_id) for e in audited] == [
        ("refused", "webchat:alice", "webchat:bob"),
        ("refused", "webchat:alice", "webchat:mallory"),
    ]
    assert (await press(bot, action_id))[0] == "Deleting `web` in `dev` on `fake`."
    assert not exists(bot, "web", "dev")


async def press_in(harness, action_id: str, conversation: str) -> list[str]:
    replies = await harness.say(
        None,
        user="alice",
        channel="webchat",
        conversation=conversation,
        value={"k8or_confirm": action_id, "decision": "yes"},
    )
    await harness.settle()
    return replies

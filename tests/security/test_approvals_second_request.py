"""Attack: a second destructive request while one waits, hoping it silently replaces the first
(so the confirmation someone gives for the first runs the second).

The second request is refused with the waiting one named; the first stays exactly as asked.
Other people may each have their own action waiting in the same conversation.
"""

from __future__ import annotations

from tests.security.approvals_harness import (  # noqa: F401  (fixtures)
    approvals_bot,
    deletes,
    deploy,
    exists,
    fake_kube,
    kubeconfig,
    last_card_id,
    press,
    say,
)


async def test_second_request_is_refused_and_the_first_is_kept(bot):
    await deploy(bot, "web", "dev")
    await deploy(bot, "api", "dev")
    await say(bot, "ns dev")
    await say(bot, "delete web")
    first_id = last_card_id(bot)

    refused = (await say(bot, "delete api"))[0]

    assert "You already have an action waiting for confirmation" in refused
    assert "Deleting `web` in `dev` on `fake`" in refused and first_id in refused
    assert last_card_id(bot) == first_id, "a new card was issued for the second request"
    assert exists(bot, "web", "dev") and exists(bot, "api", "dev") and deletes(bot) == []
    (entry,) = [e for e in await bot.services.audit.latest(20) if e.line_text == "delete api"]
    assert entry.outcome == "refused" and first_id in entry.detail

    assert (await press(bot, first_id))[0] == "Deleting `web` in `dev` on `fake`."
    assert not exists(bot, "web", "dev")
    assert exists(bot, "api", "dev"), "the refused second request ran"


async def test_second_request_after_a_namespace_switch_is_refused_too(bot):
    await deploy(bot, "web", "prod")
    await deploy(bot, "web", "dev")
    await say(bot, "ns dev")
    await say(bot, "delete web")
    await say(bot, "ns prod")

    refused = (await say(bot, "delete web"))[0]

    assert "already have an action waiting" in refused and "in `dev` on `fake`" in refused
    assert (await say(bot, "yes"))[0] == "Deleting `web` in `dev` on `fake`."
    assert exists(bot, "web", "prod") and deletes(bot, "prod") == []


async def test_several_people_may_each_have_one_waiting(bot):
    await deploy(bot, "web", "dev")
    await deploy(bot, "api", "dev")
    await say(bot, "ns dev")
    assert "is destructive" in (await say(bot, "delete web", user="alice"))[0]
    assert "is destructive" in (await say(bot, "delete api", user="carol"))[0]
    assert (await say(bot, "yes", user="carol"))[0] == "Deleting `api` in `dev` on `fake`."
    assert exists(bot, "web", "dev") and not exists(bot, "api", "dev")
    assert (await say(bot, "no", user="alice"))[0] == "Cancelled `delete web`; nothing was done."
    assert exists(bot, "web", "dev")

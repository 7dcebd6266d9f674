"""Attack: confirm an action whose recorded target is gone (the cluster was removed from the
kubeconfig), or too late, hoping it runs wherever the name now points or whatever is current.

A confirmation that no longer fits is refused with the reason, audited with both people, and
nothing in the cluster changes.
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
    say,
)


async def test_confirming_after_the_cluster_was_removed_is_refused(bot):
    await deploy(bot, "web", "dev")
    await say(bot, "ns dev")
    await say(bot, "delete web")
    bot.fake.write_kubeconfig(bot.kubeconfig, {"fake-apps": "apps"})  # `fake` is no longer a context

    replies = await say(bot, "yes")

    assert replies[-1] == (
        "`delete web` in `dev` was not run: cluster `fake` is no longer known here. "
        "Nothing was done; the request is withdrawn."
    )
    assert exists(bot, "web", "dev") and deletes(bot) == []
    (refused,) = [e for e in await bot.services.audit.latest(20) if e.detail.startswith("target gone")]
    assert (refused.outcome, refused.actor_id, refused.approver_id) == (
        "refused",
        "webchat:alice",
        "webchat:alice",
    )
    assert (await say(bot, "yes")) == ["There is nothing waiting for confirmation."]  # withdrawn


async def test_an_expired_confirmation_is_refused(bot, monkeypatch):
    import bot.confirm as confirm

    await deploy(bot, "web", "dev")
    await say(bot, "ns dev")
    await say(bot, "delete web")
    real = confirm.time.time
    monkeypatch.setattr(confirm.time, "time", lambda: real() + confirm.CONFIRM_TTL_SECONDS + 1)

    replies = await say(bot, "yes")

    assert replies == [
        "That confirmation for `delete web` expired; nothing was done. Send the command again."
    ]
    assert exists(bot, "web", "dev") and deletes(bot) == []
    (entry,) = await decisions(bot)
    assert (entry.outcome, entry.actor_id, entry.approver_id) == ("expired", "webchat:alice", "webchat:alice")

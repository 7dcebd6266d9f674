"""Attack: ask for a delete in one namespace, switch the conversation elsewhere, then confirm.

Before: `ns dev` → `delete web` → `ns prod` → `yes` deleted prod's `web` and kept dev's. Now the
confirmation runs exactly what was asked, where it was asked, and the reply names that target.
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


async def test_yes_after_ns_switch_deletes_in_the_recorded_namespace_only(bot):
    await deploy(bot, "web", "prod")
    await deploy(bot, "web", "dev")
    await say(bot, "ns dev")
    assert "in `dev` on `fake`" in (await say(bot, "delete web"))[0]
    await say(bot, "ns prod")

    replies = await say(bot, "yes")

    assert replies[0] == "Deleting `web` in `dev` on `fake`."
    assert bot.adapter.texts()[-1].startswith("✓ Deleted `web`")
    assert not exists(bot, "web", "dev")
    assert exists(bot, "web", "prod"), "prod's web was deleted by a confirmation asked for dev"
    assert deletes(bot, "prod") == []
    (approved,) = [e for e in await decisions(bot) if e.outcome == "approved"]
    assert (approved.cluster, approved.namespace, approved.app) == ("fake", "dev", "web")


async def test_yes_after_cluster_switch_still_acts_on_the_recorded_cluster(bot):
    await deploy(bot, "web", "dev")
    await say(bot, "ns dev")
    await say(bot, "delete web")
    await say(bot, "cluster use fake-apps")  # another context name (the conversation now points there)

    replies = await say(bot, "yes")

    assert replies[0] == "Deleting `web` in `dev` on `fake`."
    assert not exists(bot, "web", "dev")
    entries = [e for e in await bot.services.audit.latest(50) if e.command == "delete" and e.outcome == "ok"]
    assert [(e.cluster, e.namespace) for e in entries] == [("fake", "dev")]

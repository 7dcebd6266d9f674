"""The connector gate: a command needing sign-ins does nothing else, and links stay personal."""

from __future__ import annotations

import pytest

from bot.commands.registry import CommandSet
from testing.chat.turns import TurnHarness

gated = CommandSet()
ran: list[str] = []


@gated.command("pr open", "Open a pull request.", connectors=("github", "jira"))
async def pr_open(ctx, args):  # type: ignore[no-untyped-def]
    ran.append(ctx.person.key)
    return "opened"


class Gate:
    async def missing(self, person, connectors):  # type: ignore[no-untyped-def]
        return [(c, c.title(), f"https://k8or.example/signin/{person.user_id}-{c}") for c in connectors]


@pytest.fixture
async def bot(tmp_path):  # type: ignore[no-untyped-def]
    ran.clear()
    async with TurnHarness.open(tmp_path, [gated]) as harness:
        harness.services.gate = Gate()
        harness.services.direct.default_adapter = harness.adapter
        yield harness


async def test_one_to_one_gets_every_missing_sign_in_with_links(bot):
    reply = (await bot.say("pr open", conversation="dm-alice"))[0]
    assert "`login github`" in reply and "`login jira`" in reply
    assert "https://k8or.example/signin/alice-github" in reply
    assert ran == []


async def test_group_chat_never_shows_links_and_sends_them_privately(bot):
    await bot.say("pr open", conversation="dm-alice")  # k8or now knows alice's direct conversation
    await bot.say("pr open", conversation="team-room", is_group=True)
    public = bot.adapter.texts_in("team-room")
    assert all("https://" not in text for text in public)
    assert "sent you the sign-in links privately" in public[0]
    private = bot.adapter.texts_in("dm-alice")
    assert "https://k8or.example/signin/alice-github" in private[-1]
    assert ran == []


async def test_group_chat_without_a_direct_conversation_asks_for_one(bot):
    await bot.say("pr open", user="bob", conversation="team-room", is_group=True)
    public = bot.adapter.texts_in("team-room")
    assert "Send me a direct message" in public[0]
    assert all("https://" not in text for text in public)

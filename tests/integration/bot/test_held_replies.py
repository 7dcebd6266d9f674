"""A turn's messages reach the channel once its work is done (state saved), in the order they were
said; a progress message goes at once, after what was said before it, since its id is needed to
edit it; after it, and outside a turn, nothing is held."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.commands.registry import CommandSet
from testing.chat.turns import TurnHarness

commands = CommandSet()
channel_counts: list[int] = []  # messages the channel had, looked at from inside the handler


@commands.command("chatty", "Says things while it works.")
async def chatty(ctx, args):  # type: ignore[no-untyped-def]
    channel = ctx.turn.adapter
    await ctx.reply("one")
    channel_counts.append(len(channel.order))
    progress = await ctx.progress("working")
    channel_counts.append(len(channel.order))
    await ctx.reply("two")
    channel_counts.append(len(channel.order))
    await progress.update("worked")
    return "three"


@commands.command("quiet", "Says two things.")
async def quiet(ctx, args):  # type: ignore[no-untyped-def]
    await ctx.reply("first")
    channel_counts.append(len(ctx.turn.adapter.order))
    return "second"


@commands.command("fails", "Says something, then fails.")
async def fails(ctx, args):  # type: ignore[no-untyped-def]
    await ctx.reply("partial")
    raise RuntimeError("the handler broke")


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[TurnHarness]:
    channel_counts.clear()
    async with TurnHarness.open(tmp_path, [commands]) as harness:
        yield harness


async def test_messages_wait_for_the_turns_work_and_keep_their_order(
    bot: TurnHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    save, send = bot.bot.state.save, bot.adapter.send_activities

    async def saving(context: Any) -> None:
        await save(context)
        events.append("state saved")

    async def sending(context: Any, activities: Any) -> Any:
        events.extend(f"sent {a.text}" for a in activities)
        return await send(context, activities)

    monkeypatch.setattr(bot.bot.state, "save", saving)
    monkeypatch.setattr(bot.adapter, "send_activities", sending)
    assert await bot.say("quiet") == ["first", "second"]
    assert channel_counts == [0]  # held while the handler ran
    assert events == ["state saved", "sent first", "sent second"]


async def test_a_progress_message_goes_at_once_after_what_came_before(bot: TurnHarness) -> None:
    assert await bot.say("chatty") == ["one", "worked", "two", "three"]
    assert channel_counts == [0, 2, 3]  # one held; then one and the progress message; two at once


async def test_a_failed_turn_says_what_it_said_then_the_error(bot: TurnHarness) -> None:
    replies = await bot.say("fails")
    assert replies[0] == "partial"
    assert replies[1].startswith(messages.INTERNAL_ERROR.split("`")[0]) and len(replies) == 2

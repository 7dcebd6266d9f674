"""Whole turns in memory: grammar, help, prompting, confirmation, redelivery, roles."""

from __future__ import annotations

import asyncio

import pytest

import dialogs.core
from bot.commands.grammar import arg, opt, positive_int
from bot.commands.registry import CommandSet
from testing.chat.turns import TurnHarness

fixture_commands = CommandSet()
ran: list[dict] = []


@fixture_commands.command(
    "scale",
    "Scale an app.",
    params=[
        arg("app", "Which app"),
        arg("replicas", "How many replicas", type=positive_int),
        opt("mode", "Rollout mode", choices=("fast", "safe"), default="safe"),
    ],
    roles=("deployer",),
)
async def scale(ctx, args):  # type: ignore[no-untyped-def]
    ran.append({"app": args.app, "replicas": args.replicas, "mode": args.mode, "who": ctx.person.key})
    return f"scaled {args.app} to {args.replicas} ({args.mode})"


@fixture_commands.command(
    "pick", "Pick a colour.", params=[arg("colour", "Which colour", choices=("red", "green"))]
)
async def pick(ctx, args):  # type: ignore[no-untyped-def]
    return f"picked {args.colour}"


@fixture_commands.command(
    "wipe", "Wipe an app.", params=[arg("app", "Which app")], roles=("admin",), destructive=True
)
async def wipe(ctx, args):  # type: ignore[no-untyped-def]
    ran.append({"wiped": args.app, "who": ctx.person.key})
    return f"wiped {args.app}"


@fixture_commands.command("boom", "Fails.")
async def boom(ctx, args):  # type: ignore[no-untyped-def]
    raise RuntimeError("kaboom secret=hunter2")


def count_writes(bot, monkeypatch) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """Record the keys of every storage write from now on."""
    writes: list[list[str]] = []
    storage = bot.services.storage
    original = storage.write

    async def counting(changes):  # type: ignore[no-untyped-def]
        writes.append(sorted(changes))
        await original(changes)

    monkeypatch.setattr(storage, "write", counting)
    return writes


class Roles:
    def __init__(self, mapping: dict[str, set[str]]):
        self.mapping = mapping

    def roles_for(self, person):  # type: ignore[no-untyped-def]
        return frozenset(self.mapping.get(person.user_id, ()))


@pytest.fixture
async def bot(tmp_path):  # type: ignore[no-untyped-def]
    ran.clear()
    roles = Roles({"alice": {"deployer"}, "root": {"admin"}, "bob": {"admin"}})
    async with TurnHarness.open(tmp_path, [dialogs.core.commands, fixture_commands], roles=roles) as harness:
        yield harness


async def test_help_lists_every_command_and_explains_one(bot):
    overview = (await bot.say("help"))[0]
    for name in ("help", "whoami", "version", "scale", "wipe"):
        assert f"`{name}`" in overview
    detail = (await bot.say("help scale"))[0]
    assert "Usage: `scale <app> <replicas> [--mode MODE]`" in detail
    assert "one of fast, safe" in detail
    assert "Needs role: `deployer` or higher" in detail


async def test_mistyped_command_gets_did_you_mean(bot):
    reply = (await bot.say("sclae web 3"))[0]
    assert "Did you mean `scale`?" in reply


async def test_mention_prefix_is_stripped(bot):
    teams = (await bot.say("<at>k8or</at> version", is_group=True))[0]
    slack = (await bot.say("<@U0K8OR> version", channel="slack"))[0]
    assert teams.startswith("k8or ") and slack.startswith("k8or ")


async def test_quoting_and_options(bot):
    reply = (await bot.say('scale "web" 3 --mode=fast'))[0]
    assert reply == "scaled web to 3 (fast)"
    assert (await bot.say("scale web 2 --mode fast"))[0] == "scaled web to 2 (fast)"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("scale web zero", "is not a whole number"),
        ("scale web 0", "must be 1 or more"),
        ("scale web 2 --mode turbo", "must be one of: fast, safe"),
        ("scale web 2 --mod fast", "Did you mean `--mode`?"),
        ("scale web 2 extra", "unexpected: extra"),
        ("scale web 2 --mode", "--mode needs a value"),
    ],
)
async def test_bad_input_gets_a_clear_message_and_changes_nothing(bot, line, expected):
    reply = (await bot.say(line))[0]
    assert expected in reply
    assert "Usage: `scale" in reply
    assert ran == []


async def test_missing_arguments_are_asked_for(bot):
    first = await bot.say("scale")
    assert first == ["Which app? (Say `cancel` to stop.)"]
    second = await bot.say("web")
    assert "how many replicas" in second[0].lower()
    retry = await bot.say("lots")
    assert "not a whole number" in retry[0]
    done = await bot.say("4")
    assert done == ["scaled web to 4 (safe)"]
    assert ran == [{"app": "web", "replicas": 4, "mode": "safe", "who": "aad:aad-alice"}]


async def test_prompt_offers_known_choices(bot):
    question = await bot.say("pick")
    assert "red" in question[0] and "green" in question[0]
    assert (await bot.say("green")) == ["picked green"]


async def test_prompt_can_be_cancelled(bot):
    await bot.say("scale")
    assert (await bot.say("cancel")) == ["Cancelled `scale`."]
    assert ran == []
    assert (await bot.say("version"))[0].startswith("k8or ")


async def test_role_is_checked_before_running(bot):
    reply = (await bot.say("scale web 2", user="mallory"))[0]
    assert "needs the role `deployer`" in reply and "you have no role" in reply
    assert ran == []


async def test_destructive_command_needs_confirmation_by_requester(bot):
    ask = await bot.say("wipe web", user="root")
    assert "destructive" in ask[0]
    card = bot.adapter.messages[bot.adapter.order[-1]]
    assert card.attachments and card.attachments[0].content_type == "application/vnd.microsoft.card.adaptive"
    assert ran == []
    pending_id = card.attachments[0].content["actions"][0]["data"]["k8or_confirm"]
    refused = await bot.say(None, user="bob", value={"k8or_confirm": pending_id, "decision": "yes"})
    assert "Only Root can confirm" in refused[0]
    assert ran == []
    done = await bot.say(None, user="root", value={"k8or_confirm": pending_id, "decision": "yes"})
    assert done == ["Wiping `web`.", "wiped web"]
    assert ran == [{"wiped": "web", "who": "aad:aad-root"}]
    again = await bot.say("yes", user="root")
    assert "wiped web" not in again and ran == [{"wiped": "web", "who": "aad:aad-root"}]


async def test_confirmation_can_be_declined(bot):
    await bot.say("wipe web", user="root")
    assert "nothing was done" in (await bot.say("no", user="root"))[0]
    assert ran == []


async def test_confirmation_expires(bot, monkeypatch):
    import bot.confirm as confirm

    await bot.say("wipe web", user="root")
    real = confirm.time.time
    monkeypatch.setattr(confirm.time, "time", lambda: real() + confirm.CONFIRM_TTL_SECONDS + 1)
    reply = (await bot.say("yes", user="root"))[0]
    assert "expired" in reply
    assert ran == []


async def test_redelivered_activity_is_processed_once(bot):
    first = await bot.say("scale web 2", user="alice", activity_id="act-42")
    again = await bot.say("scale web 2", user="alice", activity_id="act-42")
    assert first == ["scaled web to 2 (safe)"]
    assert again == []
    assert len(ran) == 1


async def test_concurrent_redelivery_is_processed_once(bot):
    await asyncio.gather(*(bot.say("scale web 5", activity_id="same-id") for _ in range(5)))
    assert bot.adapter.texts() == ["scaled web to 5 (safe)"]
    assert len(ran) == 1


async def test_crash_reports_a_reference_and_no_secret(bot, caplog):
    reply = (await bot.say("boom"))[0]
    assert "Something went wrong" in reply and "Reference: `" in reply
    assert "hunter2" not in reply


async def test_state_is_saved_once_per_turn(bot, monkeypatch):
    writes = count_writes(bot, monkeypatch)
    await bot.say("scale")  # starts a dialog: conversation state changes
    await bot.say("web")
    assert len(writes) == 2
    assert all(len(w) <= 2 for w in writes)


async def test_whoami_shows_identity_and_roles(bot):
    reply = (await bot.say("whoami", user="alice"))[0]
    assert "aad:aad-alice" in reply and "`deployer`" in reply


async def test_turns_that_change_nothing_write_nothing(bot, monkeypatch):
    await bot.say("version")  # the first turn of a conversation creates its state
    writes = count_writes(bot, monkeypatch)
    for _ in range(3):
        await bot.say("version")
    assert writes == []


suggesting = CommandSet()


@suggesting.command(
    "use",
    "Use a context.",
    params=[arg("context", "Which context", suggest=lambda _services: ["dev", "prod"])],
)
async def use(ctx, args):  # type: ignore[no-untyped-def]
    return f"using {args.context}"


async def test_prompt_offers_options_known_at_run_time(tmp_path):
    async with TurnHarness.open(tmp_path, [suggesting]) as bot:
        question = (await bot.say("use"))[0]
        assert "dev" in question and "prod" in question
        assert await bot.say("prod") == ["using prod"]


async def test_in_a_group_one_persons_prompt_is_not_taken_over(bot):
    assert await bot.say("scale", user="alice", is_group=True) == ["Which app? (Say `cancel` to stop.)"]
    other = await bot.say("version", user="bob", is_group=True)
    assert other[0].startswith("k8or ")  # bob's own command runs; alice's question still stands
    busy = await bot.say("scale", user="bob", is_group=True)
    assert "Missing <app>, <replicas>" in busy[0]
    assert "how many replicas" in (await bot.say("web", user="alice", is_group=True))[0].lower()
    assert await bot.say("2", user="alice", is_group=True) == ["scaled web to 2 (safe)"]

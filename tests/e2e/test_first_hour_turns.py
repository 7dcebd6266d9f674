"""The first hour (issue 15, part B): a conversation that behaves, and status that tells the truth.
Whole turns through the real pipeline against the fake API server."""

from __future__ import annotations

import pytest
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

import dialogs.cluster
import dialogs.core
from dialogs.cluster_targets import CLUSTERS, ClusterDirectory
from policy.rbac import policy_from_dict
from testing.chat.turns import TurnHarness
from testing.kube import CRASH
from testing.kube.fixture import fake_kube, kubeconfig  # noqa: F401  (fixtures)

CHANNEL = "webchat"
POLICY = {
    "roles": {
        "admin": {"users": ["webchat:alice"]},
        "deployer": {"users": ["webchat:dave"]},
        "viewer": {"users": ["webchat:vic"]},
    },
    "commands": {"status": "deployer"},  # the RBAC file raises `status` above its default, viewer
}


@pytest.fixture
async def bot(tmp_path, fake_kube, kubeconfig):  # noqa: F811
    commands = [dialogs.cluster.commands, dialogs.core.commands]
    async with TurnHarness.open(tmp_path, commands, roles=policy_from_dict(POLICY)) as harness:
        harness.services.capabilities[CLUSTERS] = ClusterDirectory(
            kubeconfig=str(kubeconfig), rollout_timeout=20
        )
        harness.fake = fake_kube
        yield harness


async def say(bot, text, user="alice"):
    replies = await bot.say(text, user=user, channel=CHANNEL)
    await bot.settle()
    return replies


def latest(bot) -> str:
    return bot.adapter.texts()[-1]


# Conversation manners ---------------------------------------------------------------------------


async def test_help_at_a_prompt_answers_and_asks_again(bot):
    await say(bot, "cluster use fake")
    asked = (await say(bot, "deploy web"))[0]
    assert asked.startswith("Which image (repo[:tag])?") and "`cancel`" in asked
    helped = await say(bot, "help")
    assert helped[0].startswith("**deploy**") and "Usage: `deploy <app> <image>" in helped[0]
    assert helped[1] == asked  # the question stands
    await say(bot, "nginx:1.27")
    assert latest(bot).startswith("✓ Rollout of `web` (revision 1): complete")


async def test_another_command_at_a_prompt_asks_before_dropping_the_question(bot):
    await say(bot, "cluster use fake")
    asked = (await say(bot, "deploy web"))[0]
    offer = (await say(bot, "status"))[0]
    assert (
        offer
        == "You were answering “Which image (repo[:tag])?”. Drop it and run `status`? Say `yes` or `no`."
    )
    assert await say(bot, "no") == [asked]
    await say(bot, "status")
    assert (await say(bot, "yes"))[0] == "No deployments in `fake` / `default`."
    assert bot.fake.get("Deployment", "web", "default") is None
    assert await say(bot, "cancel") == ["There is nothing to cancel."]


async def test_cancel_ends_the_question_and_nothing_pending_is_said_so(bot):
    assert await say(bot, "cancel") == ["There is nothing to cancel."]
    assert await say(bot, "yes") == ["There is nothing waiting for confirmation."]
    await say(bot, "cluster use fake")
    await say(bot, "deploy")
    assert await say(bot, "cancel") == ["Cancelled `deploy`."]
    assert await say(bot, "no") == ["There is nothing waiting for confirmation."]


async def test_role_and_cluster_are_checked_before_the_first_question(bot):
    refused = await say(bot, "deploy", user="vic")
    assert refused == [
        "`deploy` needs the role `deployer`; you have viewer. Ask an admin to grant it in the RBAC file."
    ]
    no_cluster = "No cluster chosen yet: say `cluster use <context | eks:NAME>` first."
    assert await say(bot, "deploy") == [no_cluster]
    assert await say(bot, "delete web") == [no_cluster]  # not a confirmation first
    assert await say(bot, "web") != [no_cluster]  # and no question was left waiting
    assert bot.fake.api_requests() == []


async def test_cluster_use_offers_the_contexts_and_takes_the_answer(bot):
    asked = (await say(bot, "cluster use"))[0]
    assert asked.startswith("Which cluster (a context, or eks:NAME)?") and "fake" in asked
    assert await say(bot, "fake") == ["Using cluster `fake`, namespace `default`."]


async def test_help_shows_the_role_the_rbac_file_sets(bot):
    text = (await say(bot, "help status"))[0]
    assert "Needs role: `deployer` or higher." in text
    assert "Needs role: `viewer`" in (await say(bot, "help preflight"))[0]


# Truthful status --------------------------------------------------------------------------------


async def test_a_crash_loop_is_shown_as_one_with_its_last_exit(bot):
    bot.fake.script(lambda image: "crashy" in image, CRASH)
    await say(bot, "cluster use fake")
    await say(bot, "deploy web acme/crashy:1")
    text = (await say(bot, "status web"))[0]
    assert "crash-looping" in text and "last exit:" in text and "exit code" in text
    assert "1 Running" not in text
    listing = (await say(bot, "status"))[0]
    assert "0/1 apps healthy" in listing and "✗ `web`" in listing


async def test_a_failed_rollout_is_visible_in_status(bot):
    await say(bot, "cluster use fake")
    await say(bot, "deploy web nginx:1.27")
    await say(bot, "deploy web registry.example.com/doesnotexist:2")
    assert latest(bot).startswith("✗ Rollout of `web`")
    listing = (await say(bot, "status"))[0]
    assert "0/1 apps healthy" in listing and "✗ `web`" in listing and "is ImagePullBackOff" in listing, (
        listing
    )
    text = (await say(bot, "status web"))[0]
    problem = text.splitlines()[1]  # right under the headline, whether stuck or past its deadline
    assert (
        problem.startswith("✗ rollout") and "pod `web-" in problem and problem.endswith("is ImagePullBackOff")
    )


async def test_a_missing_namespace_is_said_missing(bot):
    await say(bot, "cluster use fake")
    await say(bot, "ns demo")
    assert await say(bot, "status") == [
        "Namespace `demo` does not exist in `fake`. Choose another with `ns <name>`."
    ]


async def test_a_claim_without_a_class_says_how_to_fix_it(bot):
    await say(bot, "cluster use fake")
    await say(bot, "storage create gp3")
    preflight = (await say(bot, "preflight"))[0]
    assert "none is the default, so `volume create` needs `--class`" in preflight
    reply = (await say(bot, "volume create data --size 1Gi"))[0]
    assert "give one with `--class <name>`" in reply and "storage create <name> --default" in reply


# One voice --------------------------------------------------------------------------------------


async def test_a_huge_app_name_is_refused_by_its_length_not_echoed(bot):
    await say(bot, "cluster use fake")
    name = "a" * 100_000
    (reply,) = await say(bot, f"deploy {name} nginx:1")
    assert reply.startswith("<app> is at most 63 characters; yours has 100000.")
    assert len(reply) < 300
    (reply,) = await say(bot, "x" * 100_000)
    assert reply.startswith("A command name is at most 64 characters; yours has 100000.") and len(reply) < 300


# A greeting -------------------------------------------------------------------------------------


async def _event(bot, activity: Activity) -> list[str]:
    before = len(bot.adapter.order)
    await bot.adapter.run_pipeline(TurnContext(bot.adapter, activity), bot.bot.on_turn)
    return bot.adapter.texts(before)


def _update(kind: str, **fields) -> Activity:
    return Activity(
        type=kind,
        id=f"{kind}-{sorted(fields)}",
        channel_id="msteams",
        service_url="https://smba.example/",
        conversation=ConversationAccount(id="team-conv"),
        from_property=ChannelAccount(id="someone"),
        recipient=ChannelAccount(id="k8or-bot", name="k8or"),
        **fields,
    )


async def test_k8or_greets_when_it_is_added_and_only_then(bot):
    added = _update(ActivityTypes.conversation_update, members_added=[ChannelAccount(id="k8or-bot")])
    (hello,) = await _event(bot, added)
    assert hello.startswith("Hello, I'm k8or")
    assert (
        "- `cluster use <cluster>`" in hello and "- `status`" in hello and "- `deploy <app> <image>`" in hello
    )
    assert hello.endswith("Type `help` for everything I can do.")
    someone = _update(ActivityTypes.conversation_update, members_added=[ChannelAccount(id="carol")])
    assert await _event(bot, someone) == []
    installed = _update(ActivityTypes.installation_update, action="add")
    assert (await _event(bot, installed))[0] == hello

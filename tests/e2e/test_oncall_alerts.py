"""On-call: k8or speaks first. A conversation subscribes, an app crash-loops in the fake cluster, one
alert arrives naming the app and the reason; its Rollback button runs `rollback` through the normal
turn (role checked, audited, live progress) and the alert turns ✓ when the app is healthy again.

The real pipeline and storage, the fake API server with the real kubernetes client, the alert desk
as the app runs it (k8or.alerting), proactive messages through the channel's continue_conversation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

import dialogs.cluster
import dialogs.notify
from actions.alerting import NOTIFY
from dialogs.cluster_targets import CLUSTERS, ClusterDirectory
from k8or.alerting import alert_desk, notify_extension
from policy.rbac import policy_from_dict
from testing.chat.turns import TurnHarness
from testing.kube.fixture import fake_kube, kubeconfig  # noqa: F401  (fixtures)

CHANNEL = "webchat"
POLICY = {
    "roles": {
        "admin": {"users": ["webchat:alice"]},
        "deployer": {"users": ["webchat:dave"]},
        "viewer": {"users": ["webchat:vic"]},
    }
}
WAIT = 60.0  # seconds before a wait for the cluster gives up (the fake runs 600× faster than real)


@pytest.fixture
async def bot(tmp_path, fake_kube, kubeconfig):  # noqa: F811
    policy = policy_from_dict(POLICY)
    commands = [dialogs.cluster.commands, dialogs.notify.commands]
    async with TurnHarness.open(tmp_path, commands, roles=policy) as harness:
        harness.services.approvals = policy
        harness.services.capabilities[CLUSTERS] = ClusterDirectory(
            kubeconfig=str(kubeconfig), rollout_timeout=20
        )
        harness.services.direct.default_adapter = harness.adapter  # proactive messages reach this channel
        desk = notify_extension(None, harness.services)
        await anext(desk)
        harness.fake = fake_kube
        try:
            yield harness
        finally:
            await anext(desk, None)


async def say(bot, text, user="alice", **kwargs):
    replies = await bot.say(text, user=user, channel=CHANNEL, **kwargs)
    await bot.settle()
    return replies


def alerts(bot, app: str) -> list:
    """Every message k8or sent on its own about `app` (alerts), newest state of each."""
    return [
        a for i in bot.adapter.order
        if (a := bot.adapter.messages[i]).text and f"**{app}**" in a.text
    ]  # fmt: skip


async def until(check: Callable[[], object], what: str) -> object:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while loop.time() < deadline:
        if found := check():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def button(activity, title: str) -> dict:
    card = activity.attachments[0].content
    return next(a["data"] for a in card["actions"] if a["title"] == title)


async def test_crash_loop_alert_rollback_and_recovery(bot):
    await say(bot, "cluster use fake")
    await say(bot, "deploy web nginx:1.26")
    assert (await say(bot, "notify on", user="vic"))[0].startswith(
        "🔔 This conversation now gets alerts for everything in `default` on `fake`"
    )
    await say(bot, "deploy web registry.example.com/crashloop:2")  # revision 2 crash-loops

    (alert,) = await until(lambda: alerts(bot, "web"), "the crash-loop alert")
    assert alert.text.startswith("🚨 **web**: CrashLoopBackOff in `default` on `fake`")
    assert "last exit: Error (exit code 1)" in alert.text
    titles = [a["title"] for a in alert.attachments[0].content["actions"]]
    assert titles == ["Rollback", "Logs", "Status", "Silence 1h"]
    rollback = button(alert, "Rollback")
    assert rollback["k8or_command"] == "rollback web --to-revision 1"
    assert button(alert, "Logs")["k8or_command"] == "logs web --previous"

    # The restarts go on: the same message is edited, no second alert is sent.
    await until(lambda: "restarts" in (alerts(bot, "web")[0].text or ""), "a restart count in the alert")
    assert len(alerts(bot, "web")) == 1

    # A viewer's press is refused by role, and audited.
    refused = await say(bot, None, user="vic", value=rollback)
    assert "needs the role `deployer`" in refused[0]
    # A deployer's press rolls back, with live progress in one message.
    pressed = await say(bot, None, user="dave", value=rollback)
    assert pressed[0].startswith("⏳ web: rolling back from revision 2 to 1")
    assert any(t.startswith("✓ Rollback of `web` (revision 3): complete") for t in bot.adapter.texts())
    entries = [e for e in await bot.services.audit.latest(20) if e.command == "rollback"]
    assert [(e.actor_id, e.outcome) for e in reversed(entries)] == [
        ("webchat:vic", "refused"),
        ("webchat:dave", "ok"),
    ]

    resolved = await until(lambda: [a for a in alerts(bot, "web") if a.text.startswith("✓ resolved")], "✓")
    assert (
        resolved[0].text == "✓ resolved: **web** (CrashLoopBackOff) in `default` on `fake` is healthy again."
    )
    assert len(alerts(bot, "web")) == 1  # still the one message


async def test_subscriptions_are_listed_and_stopped(bot):
    await say(bot, "cluster use fake")
    assert "gets no alerts" in (await say(bot, "notify list", user="vic"))[0]
    bot.fake.add_namespace("shop")
    reply = (
        await say(bot, "notify on --namespace shop --events crashloop,oomkilled --apps web,api", user="vic")
    )[0]
    assert reply == (
        "🔔 This conversation now gets alerts for crashloop, oomkilled in `shop` on `fake`, "
        "apps `api`, `web`."
    )
    listing = (await say(bot, "notify list", user="vic"))[0]
    assert "- `fake` / `shop`: crashloop, oomkilled for `api`, `web` (by webchat:vic)" in listing
    assert (await say(bot, "notify off", user="vic"))[
        0
    ] == "🔕 Alerts stopped for 1 subscription(s) of this conversation."
    assert "gets no alerts" in (await say(bot, "notify list", user="vic"))[0]


async def test_bad_input_is_one_clear_line(bot):
    await say(bot, "cluster use fake")
    assert "Unknown event kind(s): crashes" in (await say(bot, "notify on --events crashes", user="vic"))[0]
    assert "is not a duration" in (await say(bot, "notify silence web forever", user="vic"))[0]
    assert "needs the role" in (await say(bot, "notify on", user="mallory"))[0]
    assert await bot.services.capabilities[NOTIFY].store.subscriptions() == []


async def test_a_silenced_app_opens_no_alert(bot):
    await say(bot, "cluster use fake")
    await say(bot, "notify on", user="vic")
    assert (await say(bot, "notify silence web 1h", user="vic"))[0].startswith("🔇 `web` is silenced")
    await say(bot, "deploy web registry.example.com/crashloop:1")
    await say(bot, "deploy api registry.example.com/crashloop:1")
    await until(lambda: alerts(bot, "api"), "the alert for the app not silenced")
    assert alerts(bot, "web") == []


async def test_a_conversation_that_cannot_be_reached_is_shown_then_dropped(bot, monkeypatch):
    await say(bot, "cluster use fake", conversation="gone")
    await say(bot, "notify on", user="vic", conversation="gone")
    await say(bot, "cluster use fake")
    await say(bot, "notify on", user="vic")
    desk = bot.services.capabilities[NOTIFY]
    (gone,) = [s for s in await desk.store.subscriptions() if s.conversation == "webchat|gone"]
    await desk.store.failed(
        gone.id, "ErrorResponseException: Operation returned an invalid status code 'Forbidden'", 5
    )
    listing = (await say(bot, "notify list", user="vic", conversation="gone"))[0]
    assert (
        "⚠️ 1 failed deliveries in a row, last: ErrorResponseException" in listing
        and "dropped after 5" in listing
    )

    reach = bot.adapter.continue_conversation

    async def refuse_gone(reference, callback, *args, **kwargs):
        if reference.conversation.id == "gone":
            raise PermissionError("the bot was removed from this conversation")
        await reach(reference, callback, *args, **kwargs)

    monkeypatch.setattr(bot.adapter, "continue_conversation", refuse_gone)
    await say(bot, "deploy web registry.example.com/crashloop:1")
    await until(lambda: alerts(bot, "web"), "the alert where the bot is still welcome")

    async def dropped() -> bool:
        return [s.conversation for s in await desk.store.subscriptions()] == ["webchat|conv-1"]

    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not await dropped():
        assert loop.time() < deadline, "the unreachable conversation was never dropped"
        await asyncio.sleep(0.05)
    assert "gets no alerts" in (await say(bot, "notify list", user="vic", conversation="gone"))[0]


async def test_two_replicas_send_each_alert_once(bot, tmp_path):
    """On SQLite (one process) there is no election: both desks watch, and the alert's claim in the
    database lets one send. Two replicas on PostgreSQL elect one sender: test_oncall_failover.py."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'k8or.db'}"  # the first replica's database
    async with TurnHarness.open(
        tmp_path / "replica-2", [dialogs.notify.commands], database_url=url
    ) as second:
        second.services.capabilities[CLUSTERS] = bot.services.capabilities[CLUSTERS]
        second.services.direct.default_adapter = bot.adapter
        other = await alert_desk(second.services).start()
        try:
            await say(bot, "cluster use fake")
            await say(bot, "notify on", user="vic")
            await other.refresh()
            apps = ("web", "api", "shop")
            for app in apps:
                await say(bot, f"deploy {app} registry.example.com/crashloop:1")
            desks = (bot.services.capabilities[NOTIFY], other)

            def everyone_sees_all() -> bool:
                return all({i.app for i in d.incidents("fake", "default")} >= set(apps) for d in desks)

            await until(everyone_sees_all, "both replicas seeing the three crash loops")
            for desk in desks:
                await desk.settled()
            assert [len(alerts(bot, app)) for app in apps] == [1, 1, 1]
            assert sum(d.sent for d in desks) == 3
        finally:
            await other.stop()


async def test_an_oom_killed_app_is_named_with_the_kill_and_resolves(bot):
    await say(bot, "cluster use fake")
    await say(bot, "notify on --events oomkilled", user="vic")
    await say(bot, "deploy cache registry.example.com/oomkill:1")  # runs past its memory limit
    (alert,) = await until(lambda: alerts(bot, "cache"), "the OOMKilled alert")
    assert alert.text.startswith("🚨 **cache**: OOMKilled in `default` on `fake` — 1 pod(s); ")
    assert "; last exit: OOMKilled (exit code 137)" in alert.text
    assert button(alert, "Logs")["k8or_command"] == "logs cache --previous"

    await say(bot, "deploy cache nginx:1.26")  # a build that fits its memory
    resolved = await until(lambda: alerts(bot, "cache")[0].text.startswith("✓"), "✓")
    assert (
        alerts(bot, "cache")[0].text
        == ("✓ resolved: **cache** (OOMKilled) in `default` on `fake` is healthy again.")
        and resolved
    )


async def test_an_evicted_pod_is_named_with_the_kubelets_message_then_resolves(bot, monkeypatch):
    sent: list[str] = []  # each message as it first reached the channel
    send = bot.adapter.send_activities

    async def noting(context, activities):
        sent.extend(a.text or "" for a in activities)
        return await send(context, activities)

    monkeypatch.setattr(bot.adapter, "send_activities", noting)
    await say(bot, "cluster use fake")
    await say(bot, "notify on --events evicted", user="vic")
    await say(bot, "deploy batch registry.example.com/evicted:1")  # the node runs low on memory
    await until(lambda: alerts(bot, "batch"), "the Evicted alert")
    assert [t for t in sent if "**batch**" in t] == [
        "🚨 **batch**: Evicted in `default` on `fake` — 1 pod(s); The node was low on resource: "
        "memory. Threshold quantity: 100Mi, available: 51200Ki. Container batch was using 1Gi, "
        "request is 128Mi, has larger consumption of memory. "
    ]
    # The ReplicaSet's replacement pod runs (the node evicts once per owner): the alert turns ✓.
    await until(lambda: alerts(bot, "batch")[0].text.startswith("✓"), "✓")
    assert [a.text for a in alerts(bot, "batch")] == [
        "✓ resolved: **batch** (Evicted) in `default` on `fake` is healthy again."
    ]

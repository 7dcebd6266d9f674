"""Slack over Socket Mode, end to end: slack_sdk's real SocketModeClient opens a websocket to a local
stand-in of Slack (apps.connections.open, the envelope protocol), no public URL and no signing secret;
replies go out through the real Web API client to the same local Slack."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

import dialogs.cluster
import dialogs.core
from bot.commands.grammar import arg
from bot.commands.registry import CommandRegistry, CommandSet
from bot.settings import Settings, SettingsError
from bot.slack.socket_mode import SOCKET
from cluster.deploy import deploy
from cluster.target import from_kubeconfig
from k8or.app import SERVICES, AppParts, create_app
from policy.rbac import policy_from_dict
from testing.chat.slack_api import usergroup
from testing.chat.slack_socket import APP_TOKEN, FakeSocketMode, slash_command
from testing.kube.fixture import fake_kube, kubeconfig  # noqa: F401  (fixtures)

ROLES = policy_from_dict({"roles": {"admin": {"groups": ["slack:T1:S0ADMINS"]}}})
chores = CommandSet()
wiped: list[str] = []
held: dict[str, asyncio.Event] = {}


@chores.command("wipe", "Wipe an app.", params=[arg("app", "Which app")], roles=("admin",), destructive=True)
async def wipe(ctx, args):  # type: ignore[no-untyped-def]
    wiped.append(args.app)
    return f"wiped {args.app}"


@chores.command("hold", "A turn that lasts until the test lets it go.")
async def hold(ctx, args):  # type: ignore[no-untyped-def]
    await held["turn"].wait()
    return "let go"


def dm(text: str, event_id: str) -> dict:
    """An Events API callback for a direct message, as Socket Mode's `events_api` payload carries it."""
    event = {"type": "message", "user": "U1", "text": text, "channel": "D1", "channel_type": "im"}
    return {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A0K8OR",
        "event_id": event_id,
        "event": {**event, "ts": "1700000000.000100"},
    }


@pytest.fixture
async def slack(aiohttp_server):  # type: ignore[no-untyped-def]
    fake = FakeSocketMode(
        emails={"U1": "ana@example.com"}, usergroups=[usergroup("S0ADMINS", "sre-admins", ["U1"])]
    )
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("/api/"))  # type: ignore[attr-defined]
    return fake


@pytest.fixture
async def client(aiohttp_client, tmp_path, slack, kubeconfig):  # type: ignore[no-untyped-def]  # noqa: F811
    wiped.clear()
    held["turn"] = asyncio.Event()
    settings = Settings(
        data_dir=tmp_path,
        slack_bot_token="xoxb-test-token",
        slack_app_token=APP_TOKEN,
        slack_api_url=slack.url,
        kubeconfig=str(kubeconfig),
    )
    registry = (
        CommandRegistry().include(dialogs.core.commands).include(dialogs.cluster.commands).include(chores)
    )
    client = await aiohttp_client(create_app(settings, AppParts(registry=registry, roles=ROLES)))
    await slack.connected()
    yield client
    held["turn"].set()
    await client.close()  # before the fake Slack and the fake cluster go (they were set up first)


async def settle(client) -> None:  # type: ignore[no-untyped-def]
    await client.server.app[SERVICES].tracker.idle()


async def test_a_direct_message_round_trips_without_a_public_url(client, slack):
    envelope = await slack.send("events_api", dm("help", "Ev1"))
    assert await slack.acked(envelope) == {"envelope_id": envelope}
    reply = (await slack.wait_for("chat.postMessage"))[0]
    assert reply["channel"] == "D1" and reply["thread_ts"] == "1700000000.000100"
    assert "*k8or*" in reply["text"] and "`whoami`" in reply["text"]
    assert ("apps.connections.open", {}) in slack.calls


async def test_no_events_endpoint_without_a_signing_secret(client):
    """Socket Mode alone: nothing listens on /slack/events, so no unsigned request can start a turn."""
    assert (await client.post("/slack/events", data=b"{}")).status == 404


async def test_the_ack_comes_before_a_slow_turn_ends(client, slack):
    envelope = await slack.send("events_api", dm("hold", "Ev2"))
    await slack.acked(envelope)
    assert slack.sent() == []  # acknowledged while the turn is still running
    held["turn"].set()
    assert (await slack.wait_for("chat.postMessage"))[0]["text"] == "let go"


async def test_a_redelivered_envelope_is_answered_once(client, slack):
    for _ in range(3):  # Slack redelivers an envelope it thinks was lost, with the same event id
        await slack.acked(await slack.send("events_api", dm("version", "EvSame")))
    await slack.wait_for("chat.postMessage")
    await settle(client)
    assert len(slack.sent()) == 1


async def test_slash_command_status_shows_the_cluster(client, slack, kubeconfig):  # noqa: F811
    await asyncio.to_thread(deploy, from_kubeconfig(str(kubeconfig), "fake"), "web", "nginx:1.26", 1)
    await slack.acked(await slack.send("slash_commands", slash_command("cluster use fake", trigger="t1")))
    await slack.wait_for("chat.postMessage")
    await slack.acked(await slack.send("slash_commands", slash_command("status", trigger="t2")))
    replies = await slack.wait_for("chat.postMessage", 2)
    assert replies[0]["text"] == "Using cluster `fake`, namespace `default`."
    assert replies[1]["channel"] == "D1" and replies[1]["text"].startswith("*default* on `fake`")
    assert "`web`" in replies[1]["text"] and "`nginx:1.26`" in replies[1]["text"]


async def test_a_button_press_confirms(client, slack):
    await slack.send("events_api", dm("wipe web", "Ev3"))
    question = (await slack.wait_for("chat.postMessage"))[0]
    blocks = json.loads(question["blocks"]) if isinstance(question["blocks"], str) else question["blocks"]
    confirm = blocks[1]["elements"][0]
    assert confirm["text"]["text"] == "Confirm" and wiped == []
    press = {
        "type": "block_actions",
        "trigger_id": "t3",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "channel": {"id": "D1"},
        "message": {"ts": question.get("ts", "1700000000.000100")},
        "actions": [{"action_id": confirm["action_id"], "value": confirm["value"]}],
    }
    await slack.acked(await slack.send("interactive", press))
    await slack.wait_for("chat.postMessage", 2)
    await settle(client)
    assert "wiped web" in [m["text"] for m in slack.sent()] and wiped == ["web"]


async def test_malformed_envelopes_are_acknowledged_and_ignored(client, slack):
    bad = await slack.send("interactive", {"type": "block_actions", "actions": [{"value": "{not json"}]})
    other = await slack.send("slash_commands", {"command": "/k8or", "text": "help"})  # no user, no channel
    assert await slack.acked(bad) == {"envelope_id": bad} and await slack.acked(other)
    await slack.acked(await slack.send("events_api", dm("version", "Ev4")))
    assert (await slack.wait_for("chat.postMessage"))[0]["text"].startswith("k8or ")
    assert len(slack.sent()) == 1


async def test_it_reconnects_when_slack_asks_and_keeps_answering(client, slack):
    await slack.refresh()
    await slack.connected(2)
    await slack.acked(await slack.send("events_api", dm("version", "Ev5")))
    assert (await slack.wait_for("chat.postMessage"))[0]["text"].startswith("k8or ")


async def test_it_reconnects_after_a_dropped_connection(client, slack):
    await slack.drop()
    await slack.connected(2)
    await slack.acked(await slack.send("events_api", dm("version", "Ev6")))
    assert (await slack.wait_for("chat.postMessage"))[0]["text"].startswith("k8or ")
    assert [name for name, _ in slack.calls].count("apps.connections.open") == 2


async def test_the_app_token_never_shows_in_the_logs(client, slack, caplog):
    caplog.set_level(logging.DEBUG)
    await slack.refresh()  # apps.connections.open again, with the app-level token
    await slack.connected(2)
    await slack.acked(await slack.send("events_api", dm("version", "Ev7")))
    await slack.wait_for("chat.postMessage")
    assert "apps.connections.open" in caplog.text and APP_TOKEN not in caplog.text


async def test_shutdown_closes_the_connection(client, slack):
    socket = client.server.app[SOCKET]
    await client.close()
    assert socket.closed and socket.current_session is not None and socket.current_session.closed


def test_a_token_of_another_kind_stops_the_start_with_the_fix(tmp_path):
    with pytest.raises(SettingsError) as raised:
        Settings(data_dir=tmp_path, slack_bot_token="xoxb-test-token", slack_app_token="xoxb-test-token")
    assert "K8OR_SLACK_APP_TOKEN" in str(raised.value) and "xapp-" in str(raised.value)
    assert "xoxb-test-token" not in str(raised.value)


async def test_a_refused_app_token_is_logged_by_name_and_not_retried(aiohttp_client, tmp_path, slack, caplog):
    slack.app_token = "xapp-1-A0K8OR-1-another"  # Slack knows another token than the one k8or has
    settings = Settings(
        data_dir=tmp_path,
        slack_bot_token="xoxb-test-token",
        slack_app_token=APP_TOKEN,
        slack_api_url=slack.url,
    )
    client = await aiohttp_client(create_app(settings))
    opening = next(t for t in asyncio.all_tasks() if t.get_name() == "slack:socket-mode")
    await opening
    assert "Slack refused K8OR_SLACK_APP_TOKEN (invalid_auth)" in caplog.text
    assert slack.connections == 0 and APP_TOKEN not in caplog.text
    assert (await client.get("/healthz")).status == 200  # the rest of k8or keeps running

"""Slack end to end: signed Events API requests in, the real slack_sdk client out to a local Slack."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

import dialogs.core
from bot.commands.grammar import arg
from bot.commands.registry import CommandRegistry, CommandSet
from bot.settings import Settings
from k8or.app import SERVICES, AppParts, create_app
from policy.rbac import policy_from_dict
from testing.chat.slack_api import FakeSlack, button_press_body, event_body, signed, usergroup
from testing.chat.slack_socket import slash_command

SECRET = "slack-signing-secret-for-tests"
destructive = CommandSet()
wiped: list[str] = []


@destructive.command(
    "wipe", "Wipe an app.", params=[arg("app", "Which app")], roles=("admin",), destructive=True
)
async def wipe(ctx, args):  # type: ignore[no-untyped-def]
    wiped.append(args.app)
    return f"wiped {args.app}"


# Slack user groups are named by id (`slack:<team>:<group id>`); handles are editable by members.
ROLES = policy_from_dict({"roles": {"admin": {"groups": ["slack:T1:S0ADMINS"]}}})


@pytest.fixture
async def slack(aiohttp_server):  # type: ignore[no-untyped-def]
    fake = FakeSlack(
        emails={"U1": "ana@example.com"}, usergroups=[usergroup("S0ADMINS", "sre-admins", ["U1"])]
    )
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("/api/"))  # type: ignore[attr-defined]
    return fake


@pytest.fixture
async def client(aiohttp_client, tmp_path, slack):  # type: ignore[no-untyped-def]
    wiped.clear()
    settings = Settings(
        data_dir=tmp_path,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=slack.url,
    )
    registry = CommandRegistry().include(dialogs.core.commands).include(destructive)
    return await aiohttp_client(create_app(settings, AppParts(registry=registry, roles=ROLES)))


async def _post_event(client, body: bytes):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/json", **signed(SECRET, body)}
    return await client.post("/slack/events", data=body, headers=headers)


async def test_url_verification_handshake(client):
    body = json.dumps({"type": "url_verification", "challenge": "abc123"}).encode()
    response = await _post_event(client, body)
    assert (await response.json()) == {"challenge": "abc123"}


async def test_mention_is_answered_in_its_thread(client, slack):
    response = await _post_event(client, event_body("<@UK8OR> help"))
    assert response.status == 200
    sent = await slack.wait_for("chat.postMessage")
    assert sent[0]["channel"] == "C1" and sent[0]["thread_ts"] == "1700000000.000100"
    assert "*k8or*" in sent[0]["text"] and "`whoami`" in sent[0]["text"]


async def test_retried_event_is_answered_once(client, slack):
    for _ in range(3):
        await _post_event(client, event_body("<@UK8OR> version", event_id="EvSame"))
    await slack.wait_for("chat.postMessage")
    await client.server.app[SERVICES].tracker.idle()
    assert len(slack.sent()) == 1


@pytest.mark.parametrize("headers", [{}, {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=00"}])
async def test_unsigned_or_stale_requests_are_refused(client, slack, headers):
    response = await client.post(
        "/slack/events", data=event_body("help"), headers={"Content-Type": "application/json", **headers}
    )
    assert response.status == 401
    assert slack.calls == []


async def test_forged_signature_is_refused(client, slack):
    body = event_body("help")
    response = await client.post(
        "/slack/events",
        data=body,
        headers={"Content-Type": "application/json", **signed("wrong-secret", body)},
    )
    assert response.status == 401


async def test_user_groups_give_roles_and_buttons_confirm(client, slack):
    await _post_event(client, event_body("<@UK8OR> wipe web"))
    question = (await slack.wait_for("chat.postMessage"))[0]
    blocks = json.loads(question["blocks"]) if isinstance(question["blocks"], str) else question["blocks"]
    confirm = blocks[1]["elements"][0]
    assert confirm["text"]["text"] == "Confirm" and wiped == []
    body = button_press_body(confirm, "1700000000.000200")
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(SECRET, body)}
    assert (await client.post("/slack/interactive", data=body, headers=headers)).status == 200
    await client.server.app[SERVICES].tracker.idle()
    assert "wiped web" in [m["text"] for m in slack.sent()] and wiped == ["web"]


async def test_direct_message_without_mention(client, slack):
    await _post_event(
        client, event_body("version", kind="message", channel="D1", channel_type="im", event_id="Ev9")
    )
    assert (await slack.wait_for("chat.postMessage"))[0]["text"].startswith("k8or ")


async def test_slash_command_over_http_is_answered_where_it_was_typed(client, slack):
    body = urlencode(slash_command("version", channel="D1")).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(SECRET, body)}
    assert (await client.post("/slack/commands", data=body, headers=headers)).status == 200
    reply = (await slack.wait_for("chat.postMessage"))[0]
    assert reply["channel"] == "D1" and reply["text"].startswith("k8or ") and not reply.get("thread_ts")


async def test_unsigned_slash_command_is_refused(client, slack):
    body = urlencode(slash_command("version")).encode()
    response = await client.post(
        "/slack/commands", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status == 401 and slack.calls == []


@pytest.mark.parametrize("body", [b"", b"text=version", b"\xff\xfe", b"user_id=U1&text=help"])
async def test_signed_slash_command_that_is_no_command_is_a_400(client, slack, body):
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(SECRET, body)}
    response = await client.post("/slack/commands", data=body, headers=headers)
    assert response.status == 400 and "slash command" in await response.text()
    assert slack.calls == []

"""Malformed Slack requests get a 400 before any work, never a 500, and start no turn.

Before: a non-numeric or 5,000-digit `X-Slack-Request-Timestamp` raised inside slack_sdk's verifier
(before any signature was checked), and correctly signed bodies whose `event` is a string or whose
interactive `payload` is a JSON list raised while being read: each a 500.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from bot.settings import Settings
from k8or.app import SERVICES, create_app
from testing.chat.slack_api import FakeSlack, event_body, signed

SECRET = "slack-signing-secret-for-tests"


@pytest.fixture
async def slack(aiohttp_server):  # type: ignore[no-untyped-def]
    fake = FakeSlack(emails={"U1": "ana@example.com"})
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("/api/"))  # type: ignore[attr-defined]
    return fake


@pytest.fixture
async def client(aiohttp_client, tmp_path, slack):  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=slack.url,
    )
    return await aiohttp_client(create_app(settings))


async def _nothing_ran(client, slack) -> None:  # type: ignore[no-untyped-def]
    await client.server.app[SERVICES].tracker.idle()
    assert slack.calls == []  # no users.info, no reply: no turn started
    assert (await client.get("/healthz")).status == 200


@pytest.mark.parametrize("timestamp", ["abc", "9" * 5000, "-1", "1e9", "\u0661\u0667\u0660\u0660"])
async def test_a_timestamp_that_is_no_unix_time_is_a_400(client, slack, timestamp):
    body = event_body("<@UK8OR> help")
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "0" * 64}
    response = await client.post("/slack/events", data=body, headers=headers)
    assert response.status == 400
    assert "X-Slack-Request-Timestamp" in await response.text()
    await _nothing_ran(client, slack)


async def test_a_non_ascii_signature_is_refused_not_a_crash(client, slack):
    body = event_body("<@UK8OR> help")
    headers = {**signed(SECRET, body), "X-Slack-Signature": "v0=é"}
    response = await client.post("/slack/events", data=body, headers=headers)
    assert response.status == 401
    await _nothing_ran(client, slack)


@pytest.mark.parametrize("event", ["hello", ["app_mention"], 7, None])
async def test_a_signed_event_that_is_not_an_object_is_a_400(client, slack, event):
    body = json.dumps({"type": "event_callback", "team_id": "T1", "event": event}).encode()
    response = await client.post("/slack/events", data=body, headers=signed(SECRET, body))
    assert response.status == 400
    assert "event is not a JSON object" in await response.text()
    await _nothing_ran(client, slack)


async def test_a_signed_event_with_odd_fields_is_ignored_not_a_crash(client, slack):
    event = {"type": "app_mention", "user": ["U1"], "text": {"t": "help"}, "channel": 5}
    body = json.dumps({"type": "event_callback", "team_id": "T1", "event": event}).encode()
    response = await client.post("/slack/events", data=body, headers=signed(SECRET, body))
    assert response.status == 200  # acknowledged, so Slack does not retry it; nothing to answer
    await _nothing_ran(client, slack)


@pytest.mark.parametrize(
    "payload",
    [
        json.dumps([{"type": "block_actions"}]),
        json.dumps("block_actions"),
        json.dumps({"type": "block_actions", "actions": ["k8or-0"]}),
        json.dumps({"type": "block_actions", "actions": {"0": {}}}),
        "not json",
    ],
)
async def test_a_signed_interactive_payload_of_the_wrong_shape_is_a_400(client, slack, payload):
    body = urlencode({"payload": payload}).encode()
    response = await client.post("/slack/interactive", data=body, headers=signed(SECRET, body))
    assert response.status == 400
    await _nothing_ran(client, slack)


async def test_a_signed_body_that_is_not_utf8_is_a_400(client, slack):
    body = b"payload=\xff\xfe"
    response = await client.post("/slack/interactive", data=body, headers=signed(SECRET, body))
    assert response.status == 400
    await _nothing_ran(client, slack)

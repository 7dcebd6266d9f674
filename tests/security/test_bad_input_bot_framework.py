"""Malformed Bot Framework activities get a 400 before any work, never a 500, and run no turn.

Before: in emulator mode an activity without `serviceUrl` passed the shape check and failed while
the adapter built its channel client (500); string fields holding lists or objects failed later in
the SDK; an invoke no handler answers came back as the SDK's 501.
"""

from __future__ import annotations

import pytest

from bot.settings import Settings
from k8or.app import create_app
from testing.chat.channel import FakeChannel, message


@pytest.fixture
async def channel(aiohttp_server):  # type: ignore[no-untyped-def]
    """A Bot Framework channel on port 0: where replies would land if a turn ran."""
    fake = FakeChannel()
    fake.url = str((await aiohttp_server(fake.app())).make_url("/"))  # type: ignore[attr-defined]
    return fake


@pytest.fixture
async def client(aiohttp_client, tmp_path):  # type: ignore[no-untyped-def]
    return await aiohttp_client(create_app(Settings(data_dir=tmp_path)))


async def _no_turn_ran(client, channel) -> None:  # type: ignore[no-untyped-def]
    metrics = await (await client.get("/metrics")).text()
    assert "k8or_turns_total{" not in metrics
    assert channel.calls == []
    assert (await client.get("/healthz")).status == 200


def _without(activity: dict, key: str) -> dict:  # type: ignore[type-arg]
    return {k: v for k, v in activity.items() if k != key}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda a: _without(a, "serviceUrl"), "serviceUrl"),
        (lambda a: {**a, "serviceUrl": None}, "serviceUrl"),
        (lambda a: {**a, "serviceUrl": ["http://x/"]}, "serviceUrl"),
        (lambda a: {**a, "serviceUrl": "file:///etc/passwd"}, "serviceUrl"),
        (lambda a: {**a, "serviceUrl": "http://"}, "serviceUrl"),
        (lambda a: _without(a, "conversation"), "conversation.id"),
        (lambda a: {**a, "from": {"name": "no id"}}, "from.id"),
        (lambda a: {**a, "from": {"id": {"nested": True}}}, "from.id"),
        (lambda a: {**a, "type": ["message"]}, "type"),
        (lambda a: {**a, "text": ["help"]}, "activity.text must be a string"),
        (lambda a: {**a, "recipient": {"id": 7}}, "activity.recipient.id must be a string"),
    ],
    ids=[
        "no-serviceUrl",
        "null-serviceUrl",
        "list-serviceUrl",
        "file-serviceUrl",
        "hostless-serviceUrl",
        "no-conversation",
        "from-without-id",
        "object-from-id",
        "list-type",
        "list-text",
        "number-recipient-id",
    ],
)
async def test_malformed_activity_is_a_400_and_runs_nothing(client, channel, change, reason):
    body = change(message("help", channel.url))
    response = await client.post("/api/messages", json=body)
    assert response.status == 400
    assert reason in await response.text()
    await _no_turn_ran(client, channel)


async def test_an_invoke_nobody_handles_is_a_400_not_the_sdks_501(client, channel):
    body = message("", channel.url, type="invoke", name="composeExtension/query")
    response = await client.post("/api/messages", json=body)
    assert response.status == 400
    assert channel.calls == []


async def test_a_well_formed_activity_still_gets_its_answer(client, channel):
    response = await client.post("/api/messages", json=message("version", channel.url))
    assert response.status == 201
    assert [c.body["text"] for c in await channel.wait_for(1)] == ["k8or 0.1.0"]

"""The HTTP surface through a real server on port 0, replies captured at a local serviceUrl."""

from __future__ import annotations

import pytest

from bot.db import Database
from bot.settings import Settings
from k8or.app import SERVICES, AppParts, create_app
from testing.chat.channel import message
from testing.chat.openid import OpenIdServer, channel_token, new_key


def settings_for(tmp_path, **extra) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(data_dir=tmp_path, **extra)


@pytest.fixture
async def client(aiohttp_client, tmp_path):  # type: ignore[no-untyped-def]
    return await aiohttp_client(create_app(settings_for(tmp_path)))


async def test_help_answers_over_api_messages(client, channel):
    response = await client.post("/api/messages", json=message("help", channel.url))
    assert response.status == 201
    calls = await channel.wait_for(1)
    assert calls[0].method == "POST" and calls[0].activity_id == "act-1"
    assert "what I can do" in calls[0].body["text"]
    assert calls[0].body["replyToId"] == "act-1"


async def test_redelivery_over_http_is_answered_once(client, channel):
    for _ in range(3):
        assert (await client.post("/api/messages", json=message("version", channel.url))).status == 201
    assert channel.texts == ["k8or 0.1.0"]


async def test_health_readiness_and_metrics(client, channel):
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["status"] == "ready"
    await client.post("/api/messages", json=message("help", channel.url))
    metrics = await (await client.get("/metrics")).text()
    assert 'k8or_turns_total{channel="emulator",command="help",outcome="ok"} 1.0' in metrics
    assert "k8or_turn_seconds_bucket" in metrics
    assert 'k8or_outbound_seconds_count{outcome="ok",target="channel.send"} 1.0' in metrics


async def test_readiness_fails_when_storage_is_unreachable(client):
    services = client.server.app[SERVICES]
    healthy = services.db
    services.db = Database("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    try:
        response = await client.get("/readyz")
        assert response.status == 503
        assert (await client.get("/healthz")).status == 200
    finally:
        await services.db.dispose()
        services.db = healthy


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ("not json", {"Content-Type": "application/json"}, 400),
        ("[1, 2]", {"Content-Type": "application/json"}, 400),
        ('{"text": "no type"}', {"Content-Type": "application/json"}, 400),
        ("{}", {"Content-Type": "text/plain"}, 415),
    ],
)
async def test_malformed_requests_are_refused_cleanly(client, channel, body, headers, status):
    response = await client.post("/api/messages", data=body, headers=headers)
    assert response.status == status
    assert channel.calls == []


async def test_non_post_is_refused(client):
    assert (await client.get("/api/messages")).status == 405


APP_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def openid():  # type: ignore[no-untyped-def]
    with OpenIdServer.with_new_key("msteams") as server:
        yield server


@pytest.fixture
async def secured(aiohttp_client, tmp_path, openid):  # type: ignore[no-untyped-def]
    settings = settings_for(
        tmp_path,
        microsoft_app_id=APP_ID,
        microsoft_app_password="not-a-real-password",
        openid_metadata_url=openid.metadata_url,
    )
    return await aiohttp_client(create_app(settings, AppParts()))


def _turns_counted(metrics: str) -> bool:
    return "k8or_turns_total{" in metrics


@pytest.mark.parametrize(
    "make_header",
    [
        lambda key, url: None,
        lambda key, url: "Bearer not.a.jwt",
        lambda key, url: "Bearer ",
        lambda key, url: "Basic dXNlcjpwYXNz",
        lambda key, url: "Bearer " + channel_token(key, APP_ID, url, issued_ago=7200, lifetime=600),
        lambda key, url: "Bearer " + channel_token(new_key(), APP_ID, url),
        lambda key, url: "Bearer " + channel_token(key, APP_ID, url, kid="unknown-kid"),
        lambda key, url: "Bearer " + channel_token(key, "some-other-bot", url),
        lambda key, url: "Bearer " + channel_token(key, APP_ID, url, issuer="https://evil.example"),
        lambda key, url: "Bearer " + channel_token(key, APP_ID, url, expires=False),
    ],
    ids=[
        "missing",
        "malformed",
        "empty",
        "wrong-scheme",
        "expired",
        "wrong-key",
        "unknown-kid",
        "wrong-audience",
        "wrong-issuer",
        "no-expiry",
    ],
)
async def test_bad_tokens_get_401_and_are_never_processed(secured, channel, openid, make_header):
    header = make_header(openid.key, channel.url)
    headers = {"Authorization": header} if header is not None else {}
    body = message("help", channel.url, channel="msteams")
    response = await secured.post("/api/messages", json=body, headers=headers)
    assert response.status == 401
    metrics = await (await secured.get("/metrics")).text()
    assert not _turns_counted(metrics)
    assert channel.calls == []


async def test_valid_token_is_processed(secured, channel, openid):
    token = channel_token(openid.key, APP_ID, channel.url)
    body = message("version", channel.url, channel="msteams")
    response = await secured.post("/api/messages", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 201
    metrics = await (await secured.get("/metrics")).text()
    # The turn ran (it is counted for its command). Its reply needs an AAD token for the real app
    # id, which this machine cannot obtain, so the outbound call itself is not asserted here.
    assert 'command="version"' in metrics


async def test_a_channel_that_is_down_costs_one_answer_not_the_bot(client, channel, unused_tcp_port):
    dead = f"http://127.0.0.1:{unused_tcp_port}/"
    response = await client.post("/api/messages", json=message("help", dead, activity_id="lost"))
    assert response.status == 201
    metrics = await (await client.get("/metrics")).text()
    assert 'k8or_turns_total{channel="emulator",command="help",outcome="undeliverable"} 1.0' in metrics
    await client.post("/api/messages", json=message("version", channel.url, activity_id="next"))
    assert channel.texts == ["k8or 0.1.0"]

"""A channel token without `exp` is refused with 401, and no turn runs.

The SDK validates tokens with PyJWT, which checks `exp` only when present: a correctly signed token
minted without one used to be accepted, and would stay good forever.
"""

from __future__ import annotations

import pytest

from bot.settings import Settings
from k8or.app import create_app
from testing.chat.channel import FakeChannel, message
from testing.chat.openid import OpenIdServer, channel_token

APP_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def openid():  # type: ignore[no-untyped-def]
    with OpenIdServer.with_new_key("msteams") as server:
        yield server


@pytest.fixture
async def channel(aiohttp_server):  # type: ignore[no-untyped-def]
    fake = FakeChannel()
    fake.url = str((await aiohttp_server(fake.app())).make_url("/"))  # type: ignore[attr-defined]
    return fake


@pytest.fixture
async def client(aiohttp_client, tmp_path, openid):  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path,
        microsoft_app_id=APP_ID,
        microsoft_app_password="not-a-real-password",
        openid_metadata_url=openid.metadata_url,
    )
    return await aiohttp_client(create_app(settings))


async def _turns(client) -> str:  # type: ignore[no-untyped-def]
    metrics = await (await client.get("/metrics")).text()
    return "\n".join(line for line in metrics.splitlines() if line.startswith("k8or_turns_total{"))


@pytest.mark.parametrize("expires", [False, "2099-01-01", None, 1e400], ids=["absent", "text", "null", "inf"])
async def test_a_token_without_a_usable_exp_is_a_401_and_runs_nothing(client, channel, openid, expires):
    token = channel_token(openid.key, APP_ID, channel.url, expires=expires)
    body = message("version", channel.url, channel="msteams")
    response = await client.post("/api/messages", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 401
    assert await _turns(client) == ""
    assert channel.calls == []


async def test_the_same_token_with_exp_is_accepted(client, channel, openid):
    token = channel_token(openid.key, APP_ID, channel.url)
    body = message("version", channel.url, channel="msteams")
    response = await client.post("/api/messages", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 201
    assert 'command="version"' in await _turns(client)

"""Replies with a real app id: the channel's signed activity in, k8or's reply out with the bearer
token the (fake, local) Azure AD issued to k8or's app id and secret -- through the real msal.

The inbound token is signed as the Bot Framework channel service signs it (testing.chat.openid).
The outbound token comes from login.microsoftonline.com as far as msal can tell: see fake_aad.py.
"""

from __future__ import annotations

import uuid

import pytest

from bot.settings import Settings
from k8or.app import create_app
from testing.chat.channel import FakeChannel, message
from testing.chat.openid import OpenIdServer, channel_token
from tests.integration.channels.fake_aad import LOGIN_HOST, FakeAad, LocalCertificateAuthority, TunnelProxy

APP_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "app-secret-from-the-azure-bot"
TENANT = "72f988bf-0000-4000-8000-00000000c0de"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"


@pytest.fixture
def openid():  # type: ignore[no-untyped-def]
    with OpenIdServer.with_new_key("msteams") as server:
        yield server


@pytest.fixture
async def channel(aiohttp_server) -> FakeChannel:  # type: ignore[no-untyped-def]
    fake = FakeChannel()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("/"))  # type: ignore[attr-defined]
    return fake


@pytest.fixture
async def aad(aiohttp_server, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """Azure AD at https://login.microsoftonline.com for this process's `requests` (msal's client)."""
    authority = LocalCertificateAuthority.create(tmp_path)
    fake = FakeAad(client_id=APP_ID, client_secret=SECRET)
    server = await aiohttp_server(fake.app(), ssl=authority.server_context)
    proxy = TunnelProxy(server.port)
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "https_proxy", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", await proxy.start())
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(authority.ca_file))
    fake.proxy = proxy  # type: ignore[attr-defined]
    yield fake
    await proxy.close()


async def _bot(aiohttp_client, tmp_path, openid, **extra):  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path,
        microsoft_app_id=APP_ID,
        microsoft_app_password=SECRET,
        # The SDK caches OpenID metadata by URL for a day: a fresh URL per test.
        openid_metadata_url=f"{openid.metadata_url}?test={uuid.uuid4().hex}",
        **extra,
    )
    return await aiohttp_client(create_app(settings))


async def _say(bot, openid, channel, text: str, activity_id: str) -> int:  # type: ignore[no-untyped-def]
    token = channel_token(openid.key, APP_ID, channel.url)
    body = message(text, channel.url, channel="msteams", activity_id=activity_id)
    response = await bot.post("/api/messages", json=body, headers={"Authorization": f"Bearer {token}"})
    return response.status


@pytest.mark.parametrize(
    ("app_type", "tenant"),
    [("MultiTenant", "botframework.com"), ("SingleTenant", TENANT)],
)
async def test_replies_carry_the_token_aad_issued_to_the_app(
    aiohttp_client, tmp_path, openid, channel, aad, app_type, tenant
):
    bot = await _bot(
        aiohttp_client, tmp_path, openid, microsoft_app_type=app_type, microsoft_app_tenant_id=TENANT
    )
    for n, text in enumerate(["version", "whoami", "version"]):
        assert await _say(bot, openid, channel, text, f"act-{n}") == 201
    calls = await channel.wait_for(3)
    assert [c.activity_id for c in calls] == ["act-0", "act-1", "act-2"]
    assert calls[0].body["text"].startswith("k8or ")
    assert {c.authorization for c in calls} == {f"Bearer {aad.access_token}"}
    # One token for all three replies, asked of the app's own tenant with its id, secret and scope.
    (asked,) = aad.token_requests
    assert asked[0] == tenant
    assert asked[1]["grant_type"] == "client_credentials"
    assert (asked[1]["client_id"], asked[1]["client_secret"]) == (APP_ID, SECRET)
    assert asked[1]["scope"].split() == [BOT_FRAMEWORK_SCOPE]
    assert aad.discoveries == [tenant]
    assert aad.proxy.asked == [f"{LOGIN_HOST}:443"] * len(aad.proxy.asked)


async def test_a_refused_secret_is_one_clear_log_line_and_no_reply(
    aiohttp_client, tmp_path, openid, channel, aad, caplog
):
    aad.client_secret = "the-secret-was-rotated"  # AAD no longer accepts k8or's MicrosoftAppPassword
    bot = await _bot(aiohttp_client, tmp_path, openid)
    assert await _say(bot, openid, channel, "version", "act-0") == 201  # the channel's request was fine
    metrics = await (await bot.get("/metrics")).text()
    assert 'k8or_turns_total{channel="msteams",command="version",outcome="undeliverable"} 1.0' in metrics
    assert channel.calls == []
    (refusal,) = [r for r in caplog.records if r.getMessage().startswith("reply not delivered")]
    assert "invalid_client" in refusal.getMessage() and "MicrosoftAppPassword" in refusal.getMessage()
    assert refusal.exc_info is None
    assert SECRET not in caplog.text
    assert [tenant for tenant, _ in aad.token_requests] == ["botframework.com"]


async def test_aad_behind_a_certificate_k8or_does_not_trust_is_refused(
    aiohttp_client, tmp_path, openid, channel, aad, caplog, monkeypatch
):
    # The client really verifies AAD's certificate: with another CA as its trust store, no token.
    other = LocalCertificateAuthority.create(tmp_path / "other")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other.ca_file))
    bot = await _bot(aiohttp_client, tmp_path, openid)
    assert await _say(bot, openid, channel, "version", "act-0") == 201
    assert channel.calls == [] and aad.token_requests == [] and aad.discoveries == []
    (failure,) = [r for r in caplog.records if r.getMessage().startswith("reply not delivered")]
    assert "Azure AD gave no token for the bot (SSLError)" in failure.getMessage()

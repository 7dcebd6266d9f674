"""Issue 8, item 1: identity from client-written fields. An Emulator, Web Chat or Direct Line user
writes the admin's email and groups into `channelData`, uses the admin's email as `from.id`, or
claims a channel whose keys belong to another edge (Teams, Slack, the terminal). Over real HTTP, in
emulator mode and on a non-Teams channel with a valid token, none of it gives a role: the
destructive command is refused, only a refusal is audited, and the cluster is never asked."""

from __future__ import annotations

import pytest

from k8or.app import create_app
from testing.chat.channel import message
from testing.kube import fixture as kube_fixtures
from tests.security import identity_harness as harness
from tests.security.identity_harness import (
    ADMIN_EMAIL,
    ADMIN_OID,
    FORGED_CHANNEL_DATA,
    audited,
    bearer,
    secured_settings,
    settings_for,
)

# Fixtures from the shared harnesses, under their own names.
bot_token, channel, openid = harness.bot_token, harness.channel, harness.openid
fake_kube, kubeconfig = kube_fixtures.fake_kube, kube_fixtures.kubeconfig

# (channel the client claims, from.id it claims) -> the only key k8or grants it
IMPERSONATIONS = [
    ("emulator", ADMIN_EMAIL, f"emulator:{ADMIN_EMAIL}"),
    ("webchat", ADMIN_EMAIL, f"webchat:{ADMIN_EMAIL}"),
    ("msteams", "29:root", "msteams:29:root"),  # with the admin's aadObjectId below
    ("slack", "T1:U0ADMIN", "bf-slack:T1:U0ADMIN"),
    ("aad", ADMIN_OID, f"bf-aad:{ADMIN_OID}"),
    ("console", "root", "bf-console:root"),
]


def forged(text: str, service_url: str, channel_id: str, user: str, activity_id: str) -> dict:
    body = message(
        text,
        service_url,
        channel=channel_id,
        user=user,
        activity_id=activity_id,
        channelData=FORGED_CHANNEL_DATA,
    )
    body["from"]["aadObjectId"] = ADMIN_OID
    body["conversation"]["tenantId"] = "72f988bf-0000-4000-8000-00000000c0de"
    return body


async def _attack(client, channel, fake_kube, headers, channel_id, user, key):  # type: ignore[no-untyped-def]
    for n, text in enumerate(("delete web", "audit", "whoami")):
        body = forged(text, channel.url, channel_id, user, f"{channel_id}-{n}")
        assert (await client.post("/api/messages", json=body, headers=headers(channel.url))).status == 201
    delete, audit, whoami = [c.body["text"] for c in await channel.wait_for(3)]
    assert "`delete` needs the role `oncall`" in delete and "you have no role" in delete
    assert "`audit` needs the role `admin`" in audit
    assert f"`{key}` — from" in whoami and "- roles: none" in whoami
    assert ADMIN_EMAIL not in whoami.replace(key, "") and "aad-group" not in whoami
    assert {outcome for _, outcome, _ in await audited(client)} == {"refused"}
    assert {actor for _, _, actor in await audited(client)} == {key}
    assert fake_kube.api_requests() == []  # the cluster was never asked anything


@pytest.mark.parametrize(("channel_id", "user", "key"), IMPERSONATIONS)
async def test_emulator_mode_believes_nothing_the_client_writes(
    aiohttp_client,
    tmp_path,
    channel,
    fake_kube,
    kubeconfig,
    channel_id,
    user,
    key,
):
    settings = settings_for(tmp_path, kubeconfig=str(kubeconfig))
    client = await aiohttp_client(create_app(settings))
    await _attack(client, channel, fake_kube, lambda url: {}, channel_id, user, key)


@pytest.mark.parametrize(("channel_id", "user", "key"), [IMPERSONATIONS[1], IMPERSONATIONS[3]])
async def test_a_valid_token_on_another_channel_proves_only_the_channel_key(
    aiohttp_client,
    tmp_path,
    openid,
    channel,
    fake_kube,
    kubeconfig,
    bot_token,
    channel_id,
    user,
    key,
):
    settings = secured_settings(tmp_path, openid, kubeconfig=str(kubeconfig))
    client = await aiohttp_client(create_app(settings))
    await _attack(client, channel, fake_kube, lambda url: bearer(openid, url), channel_id, user, key)
    assert channel.roster_calls == []  # no roster is asked outside Teams

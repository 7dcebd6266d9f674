"""A Teams turn with a valid channel token: the object id and tenant are the channel's word, the
email comes from the Teams roster (asked with k8or's own token), the groups from Microsoft Graph.
Whatever the activity says about email or groups is ignored; when the roster or Graph fails, the
person simply has fewer roles."""

from __future__ import annotations

import logging

from k8or.app import create_app
from testing.chat.channel import message, roster_member
from tests.security import identity_harness as harness
from tests.security.identity_harness import (
    ADMIN_EMAIL,
    ADMIN_GROUP,
    ADMIN_OID,
    BOT_TOKEN,
    DEPLOYERS,
    FORGED_CHANNEL_DATA,
    GRAPH_TOKEN,
    TENANT,
    audited,
    bearer,
    graph_settings,
    group,
    secured_settings,
)

# Fixtures from the shared harnesses, under their own names.
bot_token, channel, graph, openid = harness.bot_token, harness.channel, harness.graph, harness.openid

ANA_OID = "0b0b0b0b-0000-4000-8000-0000000000a1"


def teams_message(text: str, service_url: str, activity_id: str, **extra):  # type: ignore[no-untyped-def]
    body = message(
        text,
        service_url,
        activity_id=activity_id,
        channel="msteams",
        user="29:ana",
        conversation="a:1-personal",
        channelData={"tenant": {"id": TENANT}, **FORGED_CHANNEL_DATA},
        **extra,
    )
    body["from"]["aadObjectId"] = ANA_OID
    body["conversation"]["tenantId"] = TENANT
    return body


async def _teams_app(aiohttp_client, tmp_path, openid, graph):  # type: ignore[no-untyped-def]
    settings = secured_settings(tmp_path, openid, graph=graph_settings(graph))
    return await aiohttp_client(create_app(settings))


async def test_email_from_roster_and_groups_from_graph(
    aiohttp_client, tmp_path, openid, channel, graph, bot_token
):
    channel.members["29:ana"] = roster_member("29:ana", "Ana Lima", ANA_OID, "ana@example.com", TENANT)
    graph.memberships[ANA_OID] = [
        [group(DEPLOYERS), {"@odata.type": "#microsoft.graph.directoryRole", "id": ADMIN_GROUP}],
        [group("7e7e7e7e-0000-4000-8000-000000000077")],
    ]
    client = await _teams_app(aiohttp_client, tmp_path, openid, graph)
    body = teams_message("whoami", channel.url, "t-1")
    assert (await client.post("/api/messages", json=body, headers=bearer(openid, channel.url))).status == 201
    reply = (await channel.wait_for(1))[0].body["text"]

    assert f"`aad:{ANA_OID}`" in reply and f"tenant `{TENANT}`" in reply
    assert "email `ana@example.com` — from the Teams roster" in reply
    assert f"group `aad-group:{DEPLOYERS}` — from Microsoft Graph" in reply
    assert "group `aad-group:7e7e7e7e-0000-4000-8000-000000000077`" in reply  # the second page
    # The directory role and everything in channelData are not groups of hers.
    assert ADMIN_GROUP not in reply and "root@example.com" not in reply and "system:masters" not in reply
    assert "- roles: `viewer`, `deployer`" in reply and f"`groups:` entry `aad-group:{DEPLOYERS}`" in reply
    # The roster was asked about her, with k8or's own token; Graph with its client-credentials token.
    assert [(c.activity_id, c.authorization) for c in channel.roster_calls] == [
        ("29:ana", f"Bearer {BOT_TOKEN}")
    ]
    assert (
        graph.token_requests[0]["tenant"] == TENANT and graph.token_requests[0]["client_id"] == "graph-client"
    )
    assert all(auth == f"Bearer {GRAPH_TOKEN}" for _, auth in graph.calls) and len(graph.calls) == 2


async def test_roster_and_graph_answers_are_cached(
    aiohttp_client, tmp_path, openid, channel, graph, bot_token
):
    channel.members["29:ana"] = roster_member("29:ana", "Ana Lima", ANA_OID, "ana@example.com", TENANT)
    graph.memberships[ANA_OID] = [[group(DEPLOYERS)]]
    client = await _teams_app(aiohttp_client, tmp_path, openid, graph)
    for n in range(3):
        body = teams_message("version", channel.url, f"c-{n}")
        await client.post("/api/messages", json=body, headers=bearer(openid, channel.url))
    await channel.wait_for(3)
    assert len(channel.roster_calls) == 1 and len(graph.calls) == 1 and len(graph.token_requests) == 1


async def test_failing_roster_and_graph_mean_fewer_roles_not_a_failed_turn(
    aiohttp_client, tmp_path, openid, channel, graph, bot_token, caplog
):
    graph.failing = True  # and the roster does not know her: 404
    client = await _teams_app(aiohttp_client, tmp_path, openid, graph)
    caplog.set_level(logging.WARNING)
    body = teams_message("delete web", channel.url, "f-1")
    assert (await client.post("/api/messages", json=body, headers=bearer(openid, channel.url))).status == 201
    reply = (await channel.wait_for(1))[0].body["text"]
    assert "needs the role `oncall`" in reply and "you have no role" in reply
    assert await audited(client) == [("delete", "refused", f"aad:{ANA_OID}")]
    warnings = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "Teams roster lookup failed" in warnings and "Microsoft Graph group lookup failed" in warnings
    assert "graph-secret" not in caplog.text and BOT_TOKEN not in caplog.text


async def test_the_admin_object_id_in_a_signed_teams_activity_is_the_admin(
    aiohttp_client, tmp_path, openid, channel, graph, bot_token
):
    """The other side of the table: with a valid token the Teams service wrote from.aadObjectId."""
    client = await _teams_app(aiohttp_client, tmp_path, openid, graph)
    body = teams_message("whoami", channel.url, "a-1")
    body["from"]["aadObjectId"] = ADMIN_OID
    await client.post("/api/messages", json=body, headers=bearer(openid, channel.url))
    reply = (await channel.wait_for(1))[0].body["text"]
    assert f"`users:` entry `aad:{ADMIN_OID}` gives `admin`" in reply


async def test_a_foreign_tenants_roster_cannot_vouch_for_an_admin_email(
    aiohttp_client, tmp_path, openid, channel, bot_token
):
    """A multi-tenant bot hears from any tenant that installs it, and a tenant's admin can give their
    own users any `mail`. So a roster email counts only for the tenants the operator names."""
    foreign = "66666666-0000-4000-8000-000000000666"
    channel.members["29:ana"] = roster_member("29:ana", "Mallory", ANA_OID, ADMIN_EMAIL, foreign)
    client = await aiohttp_client(create_app(secured_settings(tmp_path, openid)))
    body = teams_message("whoami", channel.url, "t-foreign")
    body["conversation"]["tenantId"] = foreign
    body["channelData"]["tenant"] = {"id": foreign}
    assert (await client.post("/api/messages", json=body, headers=bearer(openid, channel.url))).status == 201
    reply = (await channel.wait_for(1))[0].body["text"]

    assert f"`aad:{ANA_OID}`" in reply and f"tenant `{foreign}`" in reply
    assert ADMIN_EMAIL not in reply and "- roles: none" in reply
    assert channel.roster_calls == []  # the foreign roster is not even asked

    # The same roster answer from a tenant the operator named is believed.
    (tmp_path / "named").mkdir()
    named = secured_settings(tmp_path / "named", openid, teams_tenants=foreign)
    client = await aiohttp_client(create_app(named))
    body["id"] = "t-named"
    assert (await client.post("/api/messages", json=body, headers=bearer(openid, channel.url))).status == 201
    reply = (await channel.wait_for(2))[1].body["text"]
    assert f"email `{ADMIN_EMAIL}` — from the Teams roster" in reply and "`admin`" in reply

"""The identity attacks' world: `k8or serve`'s app over real HTTP, a Bot Framework channel on port 0
(with a Teams roster), Microsoft Graph on port 0, an RBAC file naming one admin every way a rule can.

Tokens the channel sends are minted with testing.chat.openid. The bot's own outbound token (for
replies and roster lookups) would come from AAD, which no test can reach: `bot_token` makes the
SDK's MicrosoftAppCredentials answer a fixed token, and the fakes check that token arrives.

Import the fixtures into a test module:
`from tests.security.identity_harness import bot_token, channel, graph, openid  # noqa: F401`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from botframework.connector.auth import MicrosoftAppCredentials

from bot.settings import Settings
from k8or.app import SERVICES
from testing.chat.channel import FakeChannel
from testing.chat.openid import OpenIdServer, channel_token

APP_ID = "11111111-2222-3333-4444-555555555555"
BOT_TOKEN = "bot-outbound-token"
GRAPH_TOKEN = "graph-access-token"
TENANT = "72f988bf-0000-4000-8000-00000000c0de"
ADMIN_EMAIL = "root@example.com"
ADMIN_OID = "0a0a0a0a-0000-4000-8000-00000000ad00"
ADMIN_GROUP = "9c9c9c9c-0000-4000-8000-00000000ad01"
DEPLOYERS = "5d5d5d5d-0000-4000-8000-00000000de01"
RBAC = f"""
roles:
  admin:
    users: ["{ADMIN_EMAIL}", "aad:{ADMIN_OID}", "slack:T1:U0ADMIN", "console:root"]
    groups: ["aad-group:{ADMIN_GROUP}", "slack:T1:S0ADMINS"]
  deployer:
    groups: ["aad-group:{DEPLOYERS}"]
"""
# Everything a client could write into an activity to look like the admin.
FORGED_CHANNEL_DATA = {
    "k8or_email": ADMIN_EMAIL,
    "k8or_groups": [f"aad-group:{ADMIN_GROUP}", "system:masters"],
}


def settings_for(tmp_path: Path, **extra: Any) -> Settings:
    rbac = tmp_path / "rbac.yaml"
    rbac.write_text(RBAC)
    return Settings(data_dir=tmp_path, rbac_file=rbac, **extra)


def secured_settings(tmp_path: Path, openid: OpenIdServer, **extra: Any) -> Settings:
    """Not emulator mode: every activity must carry a valid channel token."""
    return settings_for(
        tmp_path,
        microsoft_app_id=APP_ID,
        microsoft_app_password="not-a-real-password",
        # The SDK caches metadata by URL for a day: a fresh URL per test, even if a port is reused.
        openid_metadata_url=f"{openid.metadata_url}?test={uuid.uuid4().hex}",
        **extra,
    )


def bearer(openid: OpenIdServer, service_url: str) -> dict[str, str]:
    """The Authorization header the Bot Framework channel service sends with an activity."""
    return {"Authorization": "Bearer " + channel_token(openid.key, APP_ID, service_url)}


async def audited(client: Any, count: int = 20) -> list[tuple[str, str, str]]:
    """(command, outcome, actor key) of the newest audit entries."""
    entries = await client.server.app[SERVICES].audit.latest(count)
    return [(e.command, e.outcome, e.actor_id) for e in entries]


@pytest.fixture
def openid():  # type: ignore[no-untyped-def]
    with OpenIdServer.with_new_key("msteams", "webchat", "slack") as server:
        yield server


@pytest.fixture
def bot_token(monkeypatch: pytest.MonkeyPatch) -> str:
    """The bot's outbound AAD token, without AAD."""
    monkeypatch.setattr(
        MicrosoftAppCredentials, "get_access_token", lambda self, force_refresh=False: BOT_TOKEN
    )
    return BOT_TOKEN


@pytest.fixture
async def channel(aiohttp_server):  # type: ignore[no-untyped-def]
    fake = FakeChannel()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("/"))  # type: ignore[attr-defined]
    return fake


@dataclass
class FakeGraph:
    """Microsoft Graph and its token endpoint, as documented: client credentials in, a bearer token
    out; `transitiveMemberOf` answers `value` pages linked by `@odata.nextLink`."""

    memberships: dict[str, list[list[dict[str, str]]]] = field(default_factory=dict)  # user -> pages
    token_requests: list[dict[str, str]] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (path with query, authorization)
    failing: bool = False
    url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/login/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/v1.0/users/{user}/transitiveMemberOf", self._member_of)
        return app

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append({"tenant": request.match_info["tenant"], **form})  # type: ignore[dict-item]
        if form.get("grant_type") != "client_credentials" or form.get("client_secret") != "graph-secret":
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response({"token_type": "Bearer", "expires_in": 3599, "access_token": GRAPH_TOKEN})

    async def _member_of(self, request: web.Request) -> web.Response:
        self.calls.append((request.path_qs, request.headers.get("Authorization", "")))
        if self.failing:
            return web.json_response({"error": {"code": "ServiceUnavailable"}}, status=503)
        if request.headers.get("Authorization") != f"Bearer {GRAPH_TOKEN}":
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        pages = self.memberships.get(request.match_info["user"], [[]])
        index = int(request.query.get("$skiptoken", "0"))
        body: dict[str, Any] = {"value": pages[index]}
        if index + 1 < len(pages):
            body["@odata.nextLink"] = f"{self.url}v1.0{request.path.removeprefix('/v1.0')}" + (
                f"?$select=id&$skiptoken={index + 1}"
            )
        return web.json_response(body)


def group(object_id: str) -> dict[str, str]:
    return {"@odata.type": "#microsoft.graph.group", "id": object_id}


def graph_settings(fake: FakeGraph) -> dict[str, Any]:
    return {
        "tenant_id": TENANT,
        "client_id": "graph-client",
        "client_secret": "graph-secret",
        "api_url": f"{fake.url}v1.0/",
        "login_url": f"{fake.url}login/",
    }


@pytest.fixture
async def graph(aiohttp_server):  # type: ignore[no-untyped-def]
    fake = FakeGraph()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("/"))
    return fake

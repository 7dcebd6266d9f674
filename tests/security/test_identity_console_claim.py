"""`k8or chat` serves the whole app, /api/messages included, and makes the person at the terminal the
local operator (admin) when there is no RBAC file. A chat client claiming `channelId: console` and
the operator's login must not become that operator; the terminal itself still is."""

from __future__ import annotations

import io

from bot.console import ConsoleAdapter, ConsoleSession, console_key
from bot.roles import LocalOperator
from bot.settings import Settings
from k8or.app import BOT, SERVICES, create_app
from testing.chat.channel import message
from tests.security import identity_harness as harness
from tests.security.identity_harness import audited

# Fixtures from the shared harnesses, under their own names.
channel = harness.channel


async def test_only_the_terminal_is_the_local_operator(aiohttp_client, tmp_path, channel):
    client = await aiohttp_client(create_app(Settings(data_dir=tmp_path)))
    services = client.server.app[SERVICES]
    services.roles = LocalOperator(services.roles, console_key("root"))  # as `k8or chat` does

    body = message("delete web", channel.url, channel="console", user="root", activity_id="c-1")
    assert (await client.post("/api/messages", json=body)).status == 201
    refused = (await channel.wait_for(1))[0].body["text"]
    assert "`delete` needs the role `oncall`" in refused and "you have no role" in refused
    assert await audited(client) == [("delete", "refused", "bf-console:root")]

    out = io.StringIO()
    await ConsoleSession(client.server.app[BOT], ConsoleAdapter(out), "root").say("whoami")
    assert "`console:root` — from the terminal running `k8or chat`" in out.getvalue()
    assert "local operator at this terminal (no RBAC file): `admin`" in out.getvalue()

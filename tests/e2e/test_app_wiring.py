"""The app as `k8or serve` builds it: default commands, RBAC file, audit log, sign-in pages."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError
from k8or.app import SERVICES, create_app
from testing.chat.channel import message

RBAC = """
roles:
  admin: {users: ["emulator:ana"]}
  viewer: {users: ["emulator:vic"]}
"""


@pytest.fixture
async def client(aiohttp_client, tmp_path):  # type: ignore[no-untyped-def]
    rbac = tmp_path / "rbac.yaml"
    rbac.write_text(RBAC)
    settings = Settings(data_dir=tmp_path, rbac_file=rbac)
    return await aiohttp_client(create_app(settings))


async def test_roles_come_from_the_rbac_file(client, channel):
    await client.post("/api/messages", json=message("whoami", channel.url, user="ana", activity_id="1"))
    await client.post("/api/messages", json=message("whoami", channel.url, user="zed", activity_id="2"))
    ana, zed = channel.texts
    assert "`admin`" in ana
    assert "roles: none" in zed


async def test_refusals_are_audited_before_any_cluster_is_touched(client, channel):
    body = message("delete web", channel.url, user="vic", activity_id="3")
    await client.post("/api/messages", json=body)
    assert "needs the role `oncall`" in channel.texts[0]
    entries = await client.server.app[SERVICES].audit.latest(5)
    assert [(e.command, e.outcome, e.actor_id) for e in entries] == [("delete", "refused", "emulator:vic")]


async def test_sign_in_pages_are_mounted(client):
    response = await client.get("/signin/not-a-real-link")
    assert response.status in (404, 410)
    assert "k8or" in (await response.text()).lower()


async def test_a_broken_rbac_file_stops_the_start_naming_the_setting(aiohttp_client, tmp_path):
    broken = tmp_path / "rbac.yaml"
    broken.write_text("roles: [this is not a mapping")
    with pytest.raises(SettingsError, match="K8OR_RBAC_FILE"):
        await aiohttp_client(create_app(Settings(data_dir=tmp_path, rbac_file=broken)))


async def test_an_rbac_file_can_raise_a_commands_role(aiohttp_client, tmp_path, channel):
    rbac = tmp_path / "rbac.yaml"
    rbac.write_text(RBAC + "commands:\n  status: admin\n")
    client = await aiohttp_client(create_app(Settings(data_dir=tmp_path, rbac_file=rbac)))
    await client.post("/api/messages", json=message("status", channel.url, user="vic", activity_id="9"))
    assert "needs the role `admin`" in channel.texts[0]

"""Issue 8, item 6: RBAC matched a Slack user group by its handle, which any member can edit. Now a
group is matched by id (`slack:<team>:<group id>`): a member who renames their own group to the
admins' handle gains nothing, the admins keep their role whatever their group is called, and an RBAC
file that names a handle is refused at start."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError
from k8or.app import SERVICES, create_app
from testing.chat.slack_api import FakeSlack, event_body, signed, usergroup
from tests.security.identity_harness import audited

SECRET = "slack-signing-secret-for-tests"
RBAC = """
roles:
  admin: {groups: ["slack:T1:S0ADMINS"]}
"""


@pytest.fixture
async def slack(aiohttp_server):  # type: ignore[no-untyped-def]
    fake = FakeSlack(
        emails={"U1": "ana@example.com", "U2": "mallory@example.com"},
        usergroups=[usergroup("S0ADMINS", "sre-admins", ["U1"]), usergroup("S0CHAT", "chatter", ["U2"])],
    )
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("/api/"))  # type: ignore[attr-defined]
    return fake


def _settings(tmp_path, slack, rbac: str = RBAC) -> Settings:  # type: ignore[no-untyped-def]
    path = tmp_path / "rbac.yaml"
    path.write_text(rbac)
    return Settings(
        data_dir=tmp_path,
        rbac_file=path,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=slack.url,
    )


async def _say(client, slack, text: str, user: str, event_id: str) -> str:  # type: ignore[no-untyped-def]
    body = event_body(f"<@UK8OR> {text}", user=user, event_id=event_id)
    headers = {"Content-Type": "application/json", **signed(SECRET, body)}
    before = len(slack.sent())
    assert (await client.post("/slack/events", data=body, headers=headers)).status == 200
    await client.server.app[SERVICES].tracker.idle()
    return slack.sent()[before]["text"]


async def _roles_of_ana_and_mallory(aiohttp_client, tmp_path, slack, tag: str) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(create_app(_settings(tmp_path / tag, slack)))
    ana = await _say(client, slack, "whoami", "U1", f"{tag}-1")
    mallory = await _say(client, slack, "whoami", "U2", f"{tag}-2")
    refused = await _say(client, slack, "delete web", "U2", f"{tag}-3")
    assert await audited(client) == [("delete", "refused", "slack:T1:U2")]
    await client.close()
    return ana, mallory, refused


async def test_renaming_a_handle_changes_no_role(aiohttp_client, tmp_path, slack):
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    ana, mallory, refused = await _roles_of_ana_and_mallory(aiohttp_client, tmp_path, slack, "before")
    assert "group `slack:T1:S0ADMINS`" in ana and "gives `admin`" in ana
    assert "- roles: none" in mallory and "needs the role `oncall`" in refused

    slack.rename("S0ADMINS", "renamed-by-someone")  # the admins' handle changes...
    slack.rename("S0CHAT", "sre-admins")  # ...and Mallory gives her own group the admins' handle
    ana, mallory, refused = await _roles_of_ana_and_mallory(aiohttp_client, tmp_path, slack, "after")
    assert "gives `admin`" in ana
    assert "group `slack:T1:S0CHAT`" in mallory and "- roles: none" in mallory
    assert "sre-admins" not in mallory and "needs the role `oncall`" in refused


@pytest.mark.parametrize("entry", ["sre-admins", "@sre-admins", "slack:S0ADMINS", "slack:T1:sre-admins"])
async def test_an_rbac_file_naming_a_handle_stops_the_start(aiohttp_client, tmp_path, slack, entry):
    rbac = f'roles:\n  admin: {{groups: ["{entry}"]}}\n'
    with pytest.raises(SettingsError, match="K8OR_RBAC_FILE.*slack:<team id>:<group id>"):
        await aiohttp_client(create_app(_settings(tmp_path, slack, rbac)))
    assert slack.calls == []

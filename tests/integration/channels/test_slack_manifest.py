"""`k8or slack manifest`: what a Slack admin pastes into "Create New App → From a manifest", checked
against Slack's published manifest schema (v1, vendored with its source in tests/support/data/slack/),
with scopes that cover every Web API method k8or's Slack code calls and request URLs k8or serves."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from bot.settings import Settings
from k8or.app import create_app
from k8or.cli import main
from k8or.slack_manifest import METHOD_SCOPES, SDK_HELPERS, bot_scopes
from tests.support.tools import ROOT

SCHEMA = json.loads((ROOT / "tests/support/data/slack/manifest.schema.1.0.0.json").read_text())
PUBLIC_URL = "https://k8or.example.com"
# A Web API call through slack_sdk's client: `client.chat_postMessage(`, `self._client.users_info(`, and
# `client.files_upload_v2(` (a helper calling several: SDK_HELPERS).
WEB_API_CALL = re.compile(r"client\.([a-z]+)_([A-Za-z]+(?:_v[0-9]+)?)\(")


def _printed(capsys: pytest.CaptureFixture[str], *options: str) -> dict[str, Any]:
    assert main(["slack", "manifest", *options]) == 0
    manifest: dict[str, Any] = yaml.safe_load(capsys.readouterr().out)
    return manifest


def _schema_errors(manifest: dict[str, Any]) -> list[str]:
    return sorted(e.message for e in Draft7Validator(SCHEMA).iter_errors(manifest))


def test_the_socket_mode_manifest_is_one_slack_accepts(capsys):
    manifest = _printed(capsys)
    assert _schema_errors(manifest) == []
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert (
        "request_url" not in settings["event_subscriptions"]
        and "request_url" not in settings["interactivity"]
    )
    assert settings["event_subscriptions"]["bot_events"] == ["app_mention", "message.im"]
    assert settings["interactivity"]["is_enabled"] is True
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/k8or"]
    assert "url" not in manifest["features"]["slash_commands"][0]
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True  # people can DM k8or


def test_the_events_api_manifest_points_at_k8or_public_url(capsys):
    manifest = _printed(capsys, "--events-url", PUBLIC_URL + "/", "--name", "k8or-prod")
    assert _schema_errors(manifest) == []
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["event_subscriptions"]["request_url"] == f"{PUBLIC_URL}/slack/events"
    assert settings["interactivity"]["request_url"] == f"{PUBLIC_URL}/slack/interactive"
    assert manifest["features"]["slash_commands"][0]["url"] == f"{PUBLIC_URL}/slack/commands"
    assert manifest["display_information"]["name"] == manifest["features"]["bot_user"]["display_name"]


def test_json_is_the_same_manifest(capsys):
    as_yaml = _printed(capsys, "--events-url", PUBLIC_URL)
    assert main(["slack", "manifest", "--events-url", PUBLIC_URL, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == as_yaml


def test_the_yaml_says_which_method_needs_each_scope(capsys):
    assert main(["slack", "manifest"]) == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("#   ")]
    assert "#   chat:write: chat.postMessage, chat.update, chat.delete, chat.postEphemeral" in notes
    assert "#   usergroups:read: usergroups.list" in notes


def test_the_scopes_cover_every_web_api_method_k8or_calls(capsys):
    named = {
        f"{family}.{method}"
        for path in (ROOT / "bot" / "slack").glob("*.py")
        for family, method in WEB_API_CALL.findall(path.read_text())
    }
    called = {m for name in named for m in SDK_HELPERS.get(name, (name,))}
    assert {"chat.postMessage", "users.info", "usergroups.list"} <= called  # the scan finds calls
    assert "files.completeUploadExternal" in called  # files_upload_v2, by the methods it calls
    assert called <= set(METHOD_SCOPES), (
        f"map these to their scope in k8or/slack_manifest.py: {called - set(METHOD_SCOPES)}"
    )
    scopes = _printed(capsys)["oauth_config"]["scopes"]["bot"]
    assert {METHOD_SCOPES[m] for m in called} <= set(scopes)
    assert {"users:read.email", "app_mentions:read", "im:history", "commands"} <= set(scopes)


async def test_the_request_urls_are_routes_k8or_serves(aiohttp_client, tmp_path, capsys):
    manifest = _printed(capsys, "--events-url", PUBLIC_URL)
    urls = [
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
        manifest["features"]["slash_commands"][0]["url"],
    ]
    settings = Settings(data_dir=tmp_path, slack_bot_token="xoxb-test-token", slack_signing_secret="s3cret")
    client = await aiohttp_client(create_app(settings))
    for url in urls:  # each is Slack's endpoint: it refuses an unsigned request
        response = await client.post(url.removeprefix(PUBLIC_URL), data=b"payload=%7B%7D")
        assert response.status == 401, url


def test_the_schema_check_is_not_vacuous(capsys):
    manifest = _printed(capsys)
    manifest["features"]["slash_commands"][0]["command"] = "k8or"  # no leading slash
    manifest["settings"]["socket_mode"] = True  # not a field Slack knows
    assert len(_schema_errors(manifest)) == 2


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://k8or.example.com", "public https URL"),
        ("k8or.example.com", "public https URL"),
        ("https://k8or.example.com/?a=1", "without a query"),
    ],
)
def test_a_url_slack_cannot_use_is_refused_with_the_fix(capsys, url, said):
    assert main(["slack", "manifest", "--events-url", url]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and said in captured.err and "Traceback" not in captured.err


def test_the_operator_guide_lists_the_manifest_scopes():
    guide = (ROOT / "docs/operator/deploy.md").read_text()
    section = guide[guide.index("### Slack") :]
    assert "`k8or slack manifest`" in section and "`K8OR_SLACK_APP_TOKEN`" in section
    assert [scope for scope in bot_scopes() if f"| `{scope}` |" not in section] == []

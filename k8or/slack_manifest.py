"""`k8or slack manifest`: the Slack app manifest an admin pastes into "Create New App → From a manifest".

Two ways in, one manifest each: Socket Mode (the default; k8or opens a websocket with an app-level
token, so no public URL) or the Events API (`--events-url https://k8or.example.com`: Slack posts to
`/slack/events`, `/slack/interactive` and `/slack/commands` there). The bot scopes are exactly what
k8or's Slack code needs, each named with the Web API method or event that needs it (api.slack.com's
reference for the method or event).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from urllib.parse import urlsplit

import yaml

# Every Web API method bot/slack calls, and the bot scope Slack requires for it.
METHOD_SCOPES = {
    "chat.postMessage": "chat:write",  # replies and alerts (bot.slack.adapter)
    "chat.update": "chat:write",  # live progress, alerts turning ✓
    "chat.delete": "chat:write",  # a withdrawn message
    "chat.postEphemeral": "chat:write",  # what only the person may see (sign-in links)
    "users.info": "users:read",  # the person's profile (bot.slack.directory)
    "usergroups.list": "usergroups:read",  # user group ids, for RBAC `groups:`
    "files.getUploadURLExternal": "files:write",  # the whole of a reply too long for one message
    "files.completeUploadExternal": "files:write",  # (files_upload_v2, bot.slack.adapter)
}
# slack_sdk helpers that call several Web API methods: bot/slack names the helper, Slack the methods.
SDK_HELPERS = {"files.upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}
# users.info leaves profile.email out without this one; RBAC `users:` entries may be emails.
EMAIL_SCOPE = "users:read.email"
# The bot events k8or answers (bot.slack.edge.event_activity), with the scope each needs. In channels
# k8or answers mentions only, so it asks for no channel history (message.channels/groups/mpim).
EVENT_SCOPES = {"app_mention": "app_mentions:read", "message.im": "im:history"}
COMMAND = "/k8or"
COMMAND_SCOPE = "commands"
ROUTES = {"events": "/slack/events", "interactive": "/slack/interactive", "commands": "/slack/commands"}


class ManifestError(ValueError):
    """The manifest cannot be made from these options; the message says what to give instead."""


def bot_scopes() -> list[str]:
    return sorted({*METHOD_SCOPES.values(), EMAIL_SCOPE, *EVENT_SCOPES.values(), COMMAND_SCOPE})


def slack_manifest(name: str = "k8or", events_url: str = "") -> dict[str, Any]:
    """The manifest for Socket Mode, or for the Events API at `events_url` (k8or's public https root)."""
    if not 1 <= len(name) <= 35:
        raise ManifestError("--name: give 1 to 35 characters (Slack's limit for an app name)")
    root = _public_root(events_url) if events_url else ""
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Chat-ops for Kubernetes: deploy, status, rollback and alerts",
            "background_color": "#326ce5",
        },
        "features": {
            # The Messages tab open for writing: people talk to k8or in a direct message.
            "app_home": {
                "home_tab_enabled": False,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [_slash_command(root)],
        },
        "oauth_config": {"scopes": {"bot": bot_scopes()}},
        "settings": _settings(root),
    }


def _slash_command(root: str) -> dict[str, Any]:
    command: dict[str, Any] = {
        "command": COMMAND,
        "description": "Talk to k8or: /k8or help, /k8or status",
        "usage_hint": "help | status [APP] | …",
        "should_escape": False,
    }
    if root:  # over Socket Mode the command comes through the websocket, so it has no URL
        command["url"] = root + ROUTES["commands"]
    return command


def _settings(root: str) -> dict[str, Any]:
    events: dict[str, Any] = {"bot_events": sorted(EVENT_SCOPES)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if root:
        events = {"request_url": root + ROUTES["events"], **events}
        interactivity["request_url"] = root + ROUTES["interactive"]
    return {
        "event_subscriptions": events,
        "interactivity": interactivity,
        "org_deploy_enabled": False,
        "socket_mode_enabled": not root,
        "token_rotation_enabled": False,
    }


def _public_root(url: str) -> str:
    """k8or's public root from what the admin typed (the root, or its /slack/events URL)."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ManifestError("--events-url: give k8or's public https URL, e.g. https://k8or.example.com")
    if parts.query or parts.fragment:
        raise ManifestError("--events-url: give the URL without a query or fragment")
    return url.removesuffix(ROUTES["events"])


def as_yaml(manifest: dict[str, Any]) -> str:
    """The manifest as YAML, with a note of which method or event needs each scope."""
    needs: dict[str, list[str]] = {}
    for method, scope in METHOD_SCOPES.items():
        needs.setdefault(scope, []).append(method)
    needs.setdefault(EMAIL_SCOPE, []).append("users.info (profile.email)")
    for event, scope in EVENT_SCOPES.items():
        needs.setdefault(scope, []).append(f"the {event} event")
    needs.setdefault(COMMAND_SCOPE, []).append(f"the {COMMAND} slash command")
    notes = [f"#   {scope}: {', '.join(needs[scope])}" for scope in bot_scopes()]
    head = ["# k8or's Slack app manifest (`k8or slack manifest`). Bot scopes, and what needs each:", *notes]
    return "\n".join(head) + "\n" + yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)


def register(subparsers: Any) -> None:
    """Add `k8or slack manifest` to the `k8or` command line."""
    slack = subparsers.add_parser("slack", help="Slack: the app manifest admins create the app from")
    commands = slack.add_subparsers(dest="slack_command", required=True)
    manifest = commands.add_parser(
        "manifest",
        help="Print the Slack app manifest (Socket Mode, or the Events API at a public URL)",
        description="Paste the output into api.slack.com/apps → Create New App → From a manifest.",
    )
    mode = manifest.add_mutually_exclusive_group()
    mode.add_argument(
        "--socket-mode", action="store_true", help="events over a websocket k8or opens (default)"
    )
    mode.add_argument("--events-url", default="", help="k8or's public https root, for the Events API")
    manifest.add_argument("--name", default="k8or", help="the app's and bot's name in Slack")
    manifest.add_argument("--format", choices=("yaml", "json"), default="yaml", help="default: yaml")
    manifest.set_defaults(func=_print_manifest)


def _print_manifest(args: argparse.Namespace) -> int:
    try:
        manifest = slack_manifest(args.name, args.events_url)
    except ManifestError as exc:
        print(f"k8or: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(manifest, indent=2, ensure_ascii=False) if args.format == "json" else as_yaml(manifest))
    return 0

"""The Teams app manifest (schema v1.30) for k8or's bot, with its command menu from the registry.

Teams shows a bot's `commandLists` as a menu above the compose box; choosing an entry inserts its
title, so each title is a command k8or answers to. A menu holds at most ten commands (titles of 32
characters, descriptions of 128), fewer than k8or has, so `MENU` names the ten most useful ones:
`help` first (it lists the rest), then what on-call staff and project managers reach for
(status, logs, describe, events, rollback), then deploying, alerts, choosing the namespace and
signing in. Destructive commands are never offered as a one-click entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.commands.registry import CommandSpec
from k8or.teams.icons import accent_hex

MANIFEST_VERSION = "1.30"
SCHEMA_URL = (
    f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
)
SCOPES = ("personal", "team", "groupChat")
MENU = ("help", "status", "logs", "describe", "events", "rollback", "deploy", "notify on", "ns", "login")
MENU_LIMIT, TITLE_LIMIT, DESCRIPTION_LIMIT = 10, 32, 128
SHORT_NAME_LIMIT, DEVELOPER_NAME_LIMIT = 30, 32
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
SHORT_DESCRIPTION = "Chat-ops for Kubernetes: deploy, inspect and roll back by message."
FULL_DESCRIPTION = (
    "k8or is a chat-ops bot for Kubernetes. Engineers deploy, inspect and harden workloads by "
    "message; project managers ask for status and get one clear answer; on-call staff roll a "
    "deployment back safely in the middle of the night. Every action that changes a cluster is "
    "authorized by role, confirmed when destructive, and audited. Each person signs in once per "
    "service on a page k8or serves, and k8or acts as that person."
)


class PackageError(ValueError):
    """An input the package cannot be built from; the message names it and the fix."""


@dataclass(frozen=True)
class AppDetails:
    """What an admin chooses for the package; `public_url` is K8OR_PUBLIC_URL."""

    app_id: str
    public_url: str
    version: str
    name: str = "k8or"
    developer: str = "k8or"
    privacy_url: str = ""  # default: K8OR_PUBLIC_URL/privacy
    terms_url: str = ""  # default: K8OR_PUBLIC_URL/terms


def teams_manifest(details: AppDetails, registry: Iterable[CommandSpec]) -> dict[str, Any]:
    """manifest.json for these details; PackageError names the first input Teams would refuse."""
    _check(details)
    base = details.public_url.rstrip("/")
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": details.version,
        "id": details.app_id,
        "name": {"short": details.name, "full": f"{details.name}: chat-ops for Kubernetes"},
        "developer": {
            "name": details.developer,
            "websiteUrl": base,
            "privacyUrl": details.privacy_url or f"{base}/privacy",
            "termsOfUseUrl": details.terms_url or f"{base}/terms",
        },
        "description": {"short": SHORT_DESCRIPTION, "full": FULL_DESCRIPTION},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": accent_hex(),
        "bots": [_bot(details.app_id, registry)],
        "validDomains": [urlsplit(base).hostname],
    }


def _bot(app_id: str, registry: Iterable[CommandSpec]) -> dict[str, Any]:
    commands = [_menu_entry(spec) for spec in menu_commands(registry)]
    return {
        "botId": app_id,
        "scopes": list(SCOPES),
        "supportsFiles": False,
        "isNotificationOnly": False,
        "commandLists": [{"scopes": list(SCOPES), "commands": commands}],
    }


def menu_commands(registry: Iterable[CommandSpec]) -> list[CommandSpec]:
    """The commands of `MENU` this registry has, in MENU's order (never a destructive one)."""
    by_name = {spec.name: spec for spec in registry}
    chosen = [by_name[name] for name in MENU if name in by_name and not by_name[name].destructive]
    return chosen[:MENU_LIMIT]


def _menu_entry(spec: CommandSpec) -> dict[str, str]:
    if len(spec.name) > TITLE_LIMIT:
        raise PackageError(f"command {spec.name!r} is longer than Teams' {TITLE_LIMIT}-character menu title")
    usage = f" Usage: {spec.usage}"
    text = spec.summary + usage if len(spec.summary) + len(usage) <= DESCRIPTION_LIMIT else spec.summary
    return {"title": spec.name, "description": _clip(text, DESCRIPTION_LIMIT)}


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _check(details: AppDetails) -> None:
    if not _GUID.match(details.app_id):
        raise PackageError(
            f"--app-id must be the bot's Microsoft App ID, a GUID such as "
            f"00000000-0000-0000-0000-000000000000; got {details.app_id!r}"
        )
    _check_length("--name", details.name, SHORT_NAME_LIMIT)
    _check_length("--developer", details.developer, DEVELOPER_NAME_LIMIT)
    if not _SEMVER.match(details.version):
        raise PackageError(f"--app-version must be MAJOR.MINOR.PATCH, such as 1.0.0; got {details.version!r}")
    url = urlsplit(details.public_url)
    if url.scheme != "https" or not url.hostname:
        raise PackageError(
            f"K8OR_PUBLIC_URL must be the https:// address people reach k8or at (Teams opens its "
            f"sign-in links and lists its domain); it is {details.public_url!r}"
        )
    for option, value in (("--privacy-url", details.privacy_url), ("--terms-url", details.terms_url)):
        if value and not re.match(r"^https?://[^/\s]+", value):
            raise PackageError(f"{option} must be an http(s):// URL; got {value!r}")


def _check_length(option: str, value: str, limit: int) -> None:
    if not value.strip() or len(value) > limit:
        raise PackageError(f"{option} must be 1 to {limit} characters (Teams' limit); got {len(value)}")


def package_version(k8or_version: str) -> str:
    """k8or's version as the MAJOR.MINOR.PATCH Teams wants ('0.1.0.dev3' and '0.0.0+source' lose
    their suffix); an admin raises it with --app-version to replace an uploaded package."""
    match = re.match(r"^(\d+)\.(\d+)(?:\.(\d+))?", k8or_version)
    if not match:
        return "1.0.0"
    major, minor, patch = match.groups()
    return f"{int(major)}.{int(minor)}.{int(patch or 0)}"

"""Who may do what: roles from a file (K8OR_RBAC_FILE), checked before any command runs.

Roles are ordered — viewer < deployer < oncall < admin — and a role includes the ones below it. Each
command needs a minimum role (policy.roles), overridable per command, or as an explicit set of
roles. An unknown person has no role. A namespace may require two people: the approver of a
destructive command must not be the person who asked.

People are named only by keys k8or can prove (see bot/trust.py for where each comes from):
- `users:` a channel key — `aad:<object id>` (Teams), `slack:<team>:<user>` (Slack),
  `console:<login>` (the terminal), `<channel>:<id>` (any other channel, e.g. `webchat:…`,
  `emulator:alice`) — or an email/UPN, which matches only an email a trusted source gave (the Teams
  roster, Slack `users.info`), never a `from.id` that looks like one. A bare name (`dave`) is a
  login name at the terminal (`k8or chat --user dave`) and matches nobody in a chat channel.
- `groups:` `aad-group:<object id>` (AAD groups, from Microsoft Graph) or `slack:<team>:<group id>`
  (Slack user groups by id; handles are editable by members and are refused). Each channel's group
  keys have their own prefix, so one channel's group can never be taken for another's.

    # rbac.yaml
    roles:
      admin:    {users: [alice@example.com]}
      oncall:   {groups: ["slack:T0TEAM:S0ONCALL", "aad-group:6f1c2d3e-0000-4000-8000-000000000001"]}
      deployer: {users: ["aad:8d2e…", bob@example.com]}
    commands:            # optional overrides
      migrate: admin
      rollback: [oncall, admin]
    namespaces:
      prod: {two_person: true}
    impersonate: true    # send Impersonate-User/-Group so the cluster's RBAC applies too
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from policy.roles import ROLES, at_least, implied

ENV_VAR = "K8OR_RBAC_FILE"


_USER_KEY = re.compile(r"[a-z0-9][a-z0-9._-]*:\S+")
_EMAIL = re.compile(r"[^@:\s]+@[^@:\s]+")
_LOGIN = re.compile(r"[a-z0-9_][a-z0-9._-]*")
_GROUP_KEYS = (
    re.compile(r"aad-group:[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}"),
    re.compile(r"slack:[te][a-z0-9]+:s[a-z0-9]+"),
)
USER_HINT = (
    "name a channel key (aad:<object id>, slack:<team>:<user>, webchat:<id>, ...), an email, "
    "or a bare login name for the terminal"
)
GROUP_HINT = (
    "name AAD groups as aad-group:<object id> and Slack user groups as slack:<team id>:<group id> "
    "(never a handle: members can edit handles)"
)


class RbacFileError(ValueError):
    """The RBAC file cannot be used; the message names the file and the fix."""


class Someone(Protocol):
    """What RBAC needs from a person (bot.identity.Person satisfies it)."""

    @property
    def identifiers(self) -> frozenset[str]: ...

    @property
    def groups(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class Match:
    """One RBAC entry that names a person: `kind` is "users" or "groups"."""

    kind: str
    entry: str
    role: str


@dataclass(frozen=True)
class RbacPolicy:
    """Identities to roles, commands to roles, namespace rules. Immutable once loaded."""

    users: Mapping[str, str] = field(default_factory=dict)
    groups: Mapping[str, str] = field(default_factory=dict)
    commands: Mapping[str, frozenset[str]] = field(default_factory=dict)
    two_person_namespaces: frozenset[str] = frozenset()
    impersonate: bool = False

    def roles_for(self, person: Someone) -> frozenset[str]:
        """Every role a person holds, including those implied by a higher one; empty when unknown."""
        held: set[str] = set()
        for match in self.matches(person):
            held |= implied(match.role)
        return frozenset(held)

    def matches(self, person: Someone) -> list[Match]:
        """The `users:` and `groups:` entries that name this person (what `whoami` shows)."""
        users = sorted({i.lower() for i in person.identifiers} & self.users.keys())
        groups = sorted({g.lower() for g in person.groups} & self.groups.keys())
        return [Match("users", n, self.users[n]) for n in users] + [
            Match("groups", n, self.groups[n]) for n in groups
        ]

    def two_person(self, namespace: str) -> bool:
        return namespace in self.two_person_namespaces

    def two_person_rule(self, namespace: str | None) -> bool:
        """The pipeline's ApprovalPolicy: must the approver differ from the requester here?"""
        return bool(namespace) and self.two_person(namespace or "")


def _role(value: Any, where: str) -> str:
    if value not in ROLES:
        raise RbacFileError(f"{where}: {value!r} is not a role; use one of {', '.join(ROLES)}.")
    return value


def _names(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RbacFileError(f"{where} must be a list of names.")
    return value


def _command_roles(value: Any, where: str) -> frozenset[str]:
    if isinstance(value, str):
        return at_least(_role(value, where))
    return frozenset(_role(v, where) for v in _names(value, where))


def policy_from_dict(data: Mapping[str, Any], source: str = "RBAC file") -> RbacPolicy:
    """Build a policy from the parsed file; every mistake is reported with where it is."""
    if not isinstance(data, Mapping):
        raise RbacFileError(f"{source}: the top level must be a mapping with `roles:`.")
    users: dict[str, str] = {}
    groups: dict[str, str] = {}
    for role, members in (data.get("roles") or {}).items():
        _role(role, f"{source}: roles")
        members = members or {}
        if not isinstance(members, Mapping):
            raise RbacFileError(f"{source}: roles.{role} must have `users:` and/or `groups:`.")
        for name in _names(members.get("users"), f"{source}: roles.{role}.users"):
            name = _user_key(name, f"{source}: roles.{role}.users")
            users[name] = _higher(users.get(name), role)
        for name in _names(members.get("groups"), f"{source}: roles.{role}.groups"):
            name = _group_key(name, f"{source}: roles.{role}.groups")
            groups[name] = _higher(groups.get(name), role)
    commands = {
        cmd: _command_roles(v, f"{source}: commands.{cmd}") for cmd, v in (data.get("commands") or {}).items()
    }
    namespaces = data.get("namespaces") or {}
    two_person = frozenset(ns for ns, rule in namespaces.items() if (rule or {}).get("two_person"))
    return RbacPolicy(users, groups, commands, two_person, bool(data.get("impersonate", False)))


def _user_key(name: str, where: str) -> str:
    key = name.strip().lower()
    known = _USER_KEY.fullmatch(key) or _EMAIL.fullmatch(key) or _LOGIN.fullmatch(key)
    if key.startswith("aad-group:") or not known:
        raise RbacFileError(f"{where}: {name!r} is not a person k8or can recognise; {USER_HINT}.")
    return key


def _group_key(name: str, where: str) -> str:
    key = name.strip().lower()
    if not any(pattern.fullmatch(key) for pattern in _GROUP_KEYS):
        raise RbacFileError(f"{where}: {name!r} is not a group key; {GROUP_HINT}.")
    return key


def _higher(current: str | None, role: str) -> str:
    return role if current is None or ROLES.index(role) > ROLES.index(current) else current


def load_policy(path: str | Path) -> RbacPolicy:
    """Read a YAML or JSON RBAC file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RbacFileError(f"{ENV_VAR}={path}: cannot read the file ({exc.strerror}).") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise RbacFileError(
            f"{ENV_VAR}={path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}"
        ) from exc
    return policy_from_dict(data or {}, str(path))


def command_overrides(resolver: object) -> Mapping[str, frozenset[str]]:
    """The per-command roles an RBAC file sets; none for any other role resolver."""
    return resolver.commands if isinstance(resolver, RbacPolicy) else {}

"""Roles, the roles each chat command needs by default, and the one authorization decision.

Roles are ordered -- viewer < deployer < oncall < admin -- and a role includes the ones below it.
A command declares the roles it needs (the cluster commands take theirs from DEFAULT_COMMAND_ROLES);
an RBAC file may override them per command. `authorize` is the only place that decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ROLES = ("viewer", "deployer", "oncall", "admin")
# The minimum role of each cluster command, by its chat name.
DEFAULT_COMMAND_ROLES: dict[str, str] = {
    "cluster use": "viewer",
    "ns": "viewer",
    "preflight": "viewer",
    "status": "viewer",
    "release": "viewer",
    "logs": "viewer",
    "events": "viewer",
    "describe": "viewer",
    "notify on": "viewer",
    "notify off": "viewer",
    "notify list": "viewer",
    "notify silence": "viewer",
    "storage create": "deployer",
    "volume create": "deployer",
    "deploy": "deployer",
    "rollback": "deployer",
    "integrate": "deployer",
    "resolve": "deployer",
    "freeze calendar": "oncall",
    "freeze override": "oncall",
    "migrate": "oncall",
    "delete": "oncall",
    "audit": "admin",
}


def implied(role: str) -> frozenset[str]:
    """A role and every role below it."""
    return frozenset(ROLES[: ROLES.index(role) + 1])


def at_least(role: str) -> frozenset[str]:
    """The roles that satisfy a minimum role."""
    return frozenset(ROLES[ROLES.index(role) :])


def ordered(roles: Iterable[str]) -> list[str]:
    """Roles lowest first; names that are not roles come last."""
    order = {name: i for i, name in enumerate(ROLES)}
    return sorted(roles, key=lambda r: order.get(r, len(order)))


@dataclass(frozen=True)
class Authorization:
    """The decision on one command for one person; `required` is what would have been enough."""

    allowed: bool
    required: frozenset[str]

    @property
    def lowest(self) -> str:
        """The lowest role that is enough (roles include those below them), or "" when none is needed."""
        return ordered(self.required)[0] if self.required else ""


def authorize(
    held: Iterable[str],
    command: str,
    declared: frozenset[str],
    overrides: Mapping[str, frozenset[str]] | None = None,
) -> Authorization:
    """May someone holding `held` run `command`? The RBAC file's roles for it (`overrides`) replace
    the `declared` ones; no required role means anyone; admin may run everything."""
    override = (overrides or {}).get(command)
    required = frozenset(override) if override else declared
    roles = set(held)
    return Authorization(not required or "admin" in roles or bool(required & roles), required)

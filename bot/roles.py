"""Where a person's roles come from. The pipeline only needs `roles_for(person)`; `whoami` also
asks `matches(person)` to say which entry gave each role."""

from __future__ import annotations

from typing import Protocol

from bot.identity import CONSOLE, Person
from policy.rbac import Match

LOCAL_OPERATOR = "local operator"


class RoleResolver(Protocol):
    def roles_for(self, person: Person) -> frozenset[str]: ...


def matches_for(resolver: RoleResolver, person: Person) -> list[Match]:
    """The entries that gave this person their roles, for resolvers that can say (else none)."""
    explain = getattr(resolver, "matches", None)
    return list(explain(person)) if callable(explain) else []


class NoRoles:
    """The default with no RBAC file: an unknown person has no role."""

    def roles_for(self, person: Person) -> frozenset[str]:
        return frozenset()

    def matches(self, person: Person) -> list[Match]:
        return []


class LocalOperator:
    """`k8or chat` without an RBAC file: the person at the terminal runs k8or with their own
    kubeconfig and credentials, so they get admin there and nowhere else. Only the console edge can
    produce a `console:` key (bot.trust), so no chat client can claim it."""

    def __init__(self, inner: RoleResolver, console_key: str):
        self._inner = inner
        self._console_key = console_key

    def _is_operator(self, person: Person) -> bool:
        return person.key == self._console_key and person.proof == CONSOLE

    def roles_for(self, person: Person) -> frozenset[str]:
        if self._is_operator(person):
            return frozenset({"admin"})
        return self._inner.roles_for(person)

    def matches(self, person: Person) -> list[Match]:
        if self._is_operator(person):
            return [Match(LOCAL_OPERATOR, person.key, "admin")]
        return matches_for(self._inner, person)

"""Where a person's roles come from. The pipeline only needs `roles_for(person)`."""

from __future__ import annotations

from typing import Protocol

from bot.identity import Person


class RoleResolver(Protocol):
    def roles_for(self, person: Person) -> frozenset[str]: ...


class NoRoles:
    """The default with no RBAC file: an unknown person has no role."""

    def roles_for(self, person: Person) -> frozenset[str]:
        return frozenset()


class LocalOperator:
    """`k8or chat` without an RBAC file: the person at the terminal runs k8or with their own
    kubeconfig and credentials, so they get admin there and nowhere else."""

    def __init__(self, inner: RoleResolver, console_key: str):
        self._inner = inner
        self._console_key = console_key

    def roles_for(self, person: Person) -> frozenset[str]:
        if person.key == self._console_key:
            return frozenset({"admin"})
        return self._inner.roles_for(person)

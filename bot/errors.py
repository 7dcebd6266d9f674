"""k8or's own exceptions. Each carries a message a user can act on."""

from __future__ import annotations


class K8orError(Exception):
    """Base class: `str(error)` is safe to show in chat (no secrets, no stack traces)."""


class UsageError(K8orError):
    """The user typed something the grammar does not accept."""

    def __init__(self, message: str, command: str | None = None):
        super().__init__(message)
        self.command = command


class UnknownCommand(UsageError):
    def __init__(self, message: str, suggestions: list[str]):
        super().__init__(message)
        self.suggestions = suggestions


class RegistrationError(K8orError):
    """A command or connector was declared wrongly; raised at import/registration time."""


class NotAllowed(K8orError):
    """The person lacks the role a command needs."""

    def __init__(self, message: str, needed: frozenset[str]):
        super().__init__(message)
        self.needed = needed


class StateConflict(K8orError):
    """Optimistic concurrency: someone else changed the stored item first (eTag mismatch)."""

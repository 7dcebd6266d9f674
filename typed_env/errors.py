"""What a bad setting raises: one message naming every bad setting and how to fix it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple


class Problem(NamedTuple):
    """One bad value: the field path (empty for a rule about the whole section) and the fix."""

    path: tuple[str, ...]
    message: str

    def under(self, name: str) -> Problem:
        return Problem((name, *self.path), self.message)


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it and says how to fix it."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)

    @classmethod
    def listing(cls, problems: Sequence[Problem], name: Callable[[tuple[str, ...]], str]) -> SettingsError:
        """One line for one problem (a wrong setting is one line at start), else one line each."""
        lines = [f"{name(p.path)}: {p.message}" if p.path else p.message for p in problems]
        if len(lines) == 1:
            return cls(f"invalid setting {lines[0]}", problems)
        return cls("invalid settings:\n  " + "\n  ".join(lines), problems)

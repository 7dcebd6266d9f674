"""Where the judges live: where the engine finds them (the k8orize extra in the venv, else PATH)."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8orize.checks import find_tool

ROOT = Path(__file__).resolve().parents[2]


def tool(name: str) -> str:
    """Path to a judge; fails (never skips) with the command that installs it."""
    found = find_tool(name)
    if found:
        return found
    pytest.fail(f"{name} is not installed: run `make .venv/.installed` (the k8orize extra installs it)")

"""Where the external linters live: the project's tools venv (`make tools`), else PATH."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tool(name: str) -> str:
    """Path to a tool; fails (never skips) with the command that installs it."""
    local = ROOT / ".tools" / "bin" / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found:
        return found
    pytest.fail(f"{name} is not installed: run `make tools` (it installs checkov and hadolint into .tools/)")

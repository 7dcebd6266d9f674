"""Fixtures shared by every test: no environment leaks in from the developer's shell."""

from __future__ import annotations

import os

import pytest

_LEAKY_PREFIXES = ("K8OR_", "AWS_", "SLACK_", "Microsoft", "KUBECONFIG", "GITHUB_", "GOOGLE_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES):
            monkeypatch.delenv(name, raising=False)

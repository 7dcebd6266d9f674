"""The connector tests' environment: no K8OR_* or AWS_* settings and no ~/.aws files.

Each connectors conftest.py imports `clean_environment`, so it replaces tests/conftest.py's fixture of
the same name there (it removes fewer prefixes and also points the AWS files into tmp_path).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No K8OR_* or AWS_* settings from the developer's shell; no ~/.aws files either."""
    for name in list(os.environ):
        if name.startswith(("K8OR_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

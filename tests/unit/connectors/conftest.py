"""The connector tests' clean environment (tests/support/connectors.py)."""

from __future__ import annotations

from tests.support.connectors import clean_environment  # noqa: F401  (autouse fixture)

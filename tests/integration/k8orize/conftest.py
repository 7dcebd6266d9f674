"""Fixtures for the k8orization engine's tests: a tiny stdlib web app (tests/support/k8orize.py)."""

from __future__ import annotations

from tests.support.images import base_image, pushed_image, registry  # noqa: F401  (fixtures)
from tests.support.k8orize import http_app  # noqa: F401  (fixture)

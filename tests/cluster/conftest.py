"""Fixtures for the cluster library tests: a fake cluster, a kubeconfig, a target on it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# `tests.fakes.*` is imported by absolute name; make the repository root importable for any runner.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from cluster.target import ClusterTarget, from_kubeconfig  # noqa: E402
from tests.fakes.kube.fixture import fake_kube, kubeconfig  # noqa: E402,F401  (fixtures)


@pytest.fixture
def target(kubeconfig: Path) -> ClusterTarget:  # noqa: F811 - the imported fixture
    """The `fake` context, namespace default."""
    return from_kubeconfig(str(kubeconfig), "fake")

"""Fixtures for the cluster library tests: a fake cluster, a kubeconfig, a target on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.target import ClusterTarget, from_kubeconfig
from testing.kube.fixture import fake_kube, kubeconfig  # noqa: F401  (fixtures)


@pytest.fixture
def target(kubeconfig: Path) -> ClusterTarget:  # noqa: F811 - the imported fixture
    """The `fake` context, namespace default."""
    return from_kubeconfig(str(kubeconfig), "fake")

"""pytest fixtures: a running FakeKube with a node, the `default` namespace and a kubeconfig file.

Import them into a conftest.py: `from testing.kube.fixture import fake_kube, kubeconfig  # noqa: F401`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .fake import FakeKube


def standard_cluster(tick: float = 0.02, speed: float = 600.0) -> FakeKube:
    """A started fake with namespaces default/kube-system and one Ready node."""
    fake = FakeKube(tick=tick, speed=speed).start()
    for ns in ("default", "kube-system"):
        fake.add_namespace(ns)
    fake.add_node("node-1")
    return fake


@pytest.fixture
def fake_kube() -> Iterator[FakeKube]:
    fake = standard_cluster()
    yield fake
    fake.stop()


@pytest.fixture
def kubeconfig(fake_kube: FakeKube, tmp_path: Path) -> Path:
    """Contexts `fake` (namespace default), `fake-apps` (namespace apps), `down` (nothing listens)."""
    return fake_kube.write_kubeconfig(
        tmp_path / "kubeconfig", {"fake": "default", "fake-apps": "apps"}, unreachable="down"
    )

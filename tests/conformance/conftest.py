"""The cluster the conformance tests run against: FakeKube, or the cluster that
K8OR_CONFORMANCE_KUBECONFIG (and K8OR_CONFORMANCE_CONTEXT) name. See docs/developer/testing.md."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes.client import ApiClient
from kubernetes.config import new_client_from_config

from testing.kube.fixture import standard_cluster

from .harness import Cluster, fresh_namespace

KUBECONFIG = "K8OR_CONFORMANCE_KUBECONFIG"
CONTEXT = "K8OR_CONFORMANCE_CONTEXT"


@pytest.fixture(scope="session")
def conformance_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiClient, bool]]:
    """Session-scoped, so it reads the environment before the per-test clean-up empties it."""
    kubeconfig = os.environ.get(KUBECONFIG)
    if kubeconfig:
        api = new_client_from_config(config_file=kubeconfig, context=os.environ.get(CONTEXT) or None)
        yield api, True
        api.close()
        return
    fake = standard_cluster()
    # RBAC on, as on a real cluster: the kubeconfig's user is cluster-admin, anyone else may do nothing.
    fake.rbac = {}
    path = fake.write_kubeconfig(Path(tmp_path_factory.mktemp("conformance")) / "kubeconfig")
    api = new_client_from_config(config_file=str(path), context="fake")
    yield api, False
    api.close()
    fake.stop()


@pytest.fixture
def cluster(conformance_api: tuple[ApiClient, bool]) -> Iterator[Cluster]:
    """A fresh namespace on the cluster under test, deleted afterwards with what the test made."""
    api, real = conformance_api
    made = fresh_namespace(api, real)
    yield made
    made.close()

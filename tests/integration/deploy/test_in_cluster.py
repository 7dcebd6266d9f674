"""The in-cluster target: the pod's mounted ServiceAccount reaching its API server over TLS."""

from __future__ import annotations

import pytest

from cluster.errors import TargetError
from cluster.incluster import IN_CLUSTER, InClusterAccount
from cluster.status import namespace_status
from testing.kube.incluster import InClusterFake


@pytest.fixture
def pod(tmp_path):
    fake = InClusterFake(tmp_path / "serviceaccount", namespace="k8or").start()
    for ns in ("default", "k8or"):
        fake.add_namespace(ns)
    fake.add_node("node-1")
    yield fake
    fake.stop()


def test_a_pod_with_a_mounted_token_reaches_its_cluster_in_its_own_namespace(pod):
    account = InClusterAccount(pod.account_dir, pod.environ)
    assert account.available()
    target = account.target()
    assert (target.name, target.namespace) == (IN_CLUSTER, "k8or")
    assert target.configuration.host == pod.url
    assert namespace_status(target).apps == ()
    assert namespace_status(account.target("default")).namespace == "default"
    assert [r.verb for r in pod.requests if r.verb == "unauthenticated"] == []
    paths = {r.path for r in pod.api_requests()}
    assert {
        "/apis/apps/v1/namespaces/k8or/deployments",
        "/apis/apps/v1/namespaces/default/deployments",
    } <= paths


def test_a_rotated_token_is_read_again(pod):
    """The kubelet rotates bound tokens; a new target (one per command) reads the file anew."""
    account = InClusterAccount(pod.account_dir, pod.environ)
    namespace_status(account.target())
    pod.token = "rotated-" + pod.token
    (pod.account_dir / "token").write_text(pod.token)
    namespace_status(account.target())
    assert [r.verb for r in pod.requests if r.verb == "unauthenticated"] == []


@pytest.mark.parametrize("missing", ["token", "ca.crt", "KUBERNETES_SERVICE_HOST"])
def test_without_the_mounted_account_in_cluster_is_not_offered(pod, missing):
    environ = {k: v for k, v in pod.environ.items() if k != missing}
    if missing in ("token", "ca.crt"):
        (pod.account_dir / missing).unlink()
    account = InClusterAccount(pod.account_dir, environ)
    assert not account.available()
    with pytest.raises(TargetError, match="overlays/in-cluster"):
        account.target()


def test_outside_a_pod_the_namespace_is_default(tmp_path):
    assert InClusterAccount(tmp_path, {}).own_namespace() == "default"

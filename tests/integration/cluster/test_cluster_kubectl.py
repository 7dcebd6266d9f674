"""kubectl itself against the fake: the fake speaks real Kubernetes, and our rollback equals kubectl's."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from cluster.deploy import deploy
from cluster.rollback import rollback
from cluster.rollout import COMPLETE, RolloutWatcher
from cluster.target import from_kubeconfig
from testing.kube.controllers.deployment import semantic
from testing.kube.fixture import standard_cluster

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


@pytest.fixture
def two_clusters(tmp_path):
    fakes = [standard_cluster(), standard_cluster()]
    for fake in fakes:
        fake.anonymous = True  # kubectl sends no bearer token over plain HTTP
    targets = [
        from_kubeconfig(str(f.write_kubeconfig(tmp_path / f"kc{i}")), "fake") for i, f in enumerate(fakes)
    ]
    for target in targets:
        for image in ("nginx:1.25", "nginx:1.26", "nginx:1.27"):
            deploy(target, "web", image, replicas=2)
            assert list(RolloutWatcher(target, "web", timeout=20))[-1].state == COMPLETE
    yield fakes, targets, tmp_path
    for fake in fakes:
        fake.stop()


def kubectl(kubeconfig, *args) -> str:
    done = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-500:]
    return done.stdout


def test_kubectl_reads_what_the_library_wrote(two_clusters):
    _, _, tmp_path = two_clusters
    history = kubectl(tmp_path / "kc0", "rollout", "history", "deployment/web")
    rows = [line.split(None, 1) for line in history.splitlines()[2:] if line.strip()]
    assert rows == [[str(n), f"k8or deploy web nginx:1.2{4 + n}"] for n in (1, 2, 3)]
    assert "successfully rolled out" in kubectl(tmp_path / "kc0", "rollout", "status", "deployment/web")


def test_library_rollback_equals_kubectl_rollout_undo(two_clusters):
    fakes, targets, tmp_path = two_clusters
    rollback(targets[0], "web", to_revision=1)
    kubectl(tmp_path / "kc1", "rollout", "undo", "deployment/web", "--to-revision=1")
    for target in targets:
        assert list(RolloutWatcher(target, "web", timeout=20))[-1].state == COMPLETE
    ours, theirs = (f.get("Deployment", "web", "default") for f in fakes)
    # kubectl sends the template's zero creationTimestamp as null, as Go serializes it; the API
    # server's typed structs treat null and absent alike, and so does this comparison.
    assert semantic(ours["spec"]["template"]) == semantic(theirs["spec"]["template"])
    for fake in fakes:  # the old ReplicaSet was reused, not a new one made
        assert len(fake.list("ReplicaSet", "default")) == 3
    assert ours["metadata"]["annotations"] == theirs["metadata"]["annotations"]
    assert ours["metadata"]["annotations"]["kubernetes.io/change-cause"] == "k8or deploy web nginx:1.25"
    assert ours["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    (our_patch,) = [
        r for r in fakes[0].api_requests() if r.verb == "patch" and "json-patch" in r.content_type
    ]
    (their_patch,) = [
        r for r in fakes[1].api_requests() if r.verb == "patch" and "json-patch" in r.content_type
    ]
    assert [op["path"] for op in our_patch.body] == [op["path"] for op in their_patch.body]


JOB = """apiVersion: batch/v1
kind: Job
metadata: {name: hello}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: "busybox:1", command: ["sh", "-c", "echo hello from the fake"]}]
"""


def test_kubectl_applies_waits_reads_logs_and_deletes(two_clusters):
    fakes, _, tmp_path = two_clusters
    (tmp_path / "job.yaml").write_text(JOB)
    kc = tmp_path / "kc0"
    # kubectl's own schema check needs /openapi, which the fake does not serve; the fake validates anyway.
    assert "serverside-applied" in kubectl(
        kc, "apply", "--server-side", "--validate=false", "-f", tmp_path / "job.yaml"
    )
    assert "condition met" in kubectl(kc, "wait", "--for=condition=complete", "job/hello", "--timeout=20s")
    assert kubectl(kc, "logs", "job/hello") == "hello from the fake\n"
    assert "scaled" in kubectl(kc, "scale", "deployment/web", "--replicas=3")
    assert "successfully rolled out" in kubectl(kc, "rollout", "status", "deployment/web", "--timeout=20s")
    assert fakes[0].get("Deployment", "web", "default")["status"]["availableReplicas"] == 3
    kubectl(kc, "delete", "deployment", "web", "--cascade=foreground", "--wait=true")
    assert fakes[0].get("Deployment", "web", "default") is None
    assert [p for p in fakes[0].list("Pod", "default") if p["metadata"]["name"].startswith("web-")] == []


def test_kubectl_creates_with_protobuf_bodies(tmp_path):
    """kubectl's typed `create` commands send protobuf (application/vnd.kubernetes.protobuf); the fake
    decodes the common ones and answers JSON, which kubectl accepts."""
    fake = standard_cluster()
    fake.anonymous = True
    kc = fake.write_kubeconfig(tmp_path / "kc")
    try:
        assert kubectl(kc, "create", "namespace", "shop") == "namespace/shop created\n"
        kubectl(kc, "-n", "shop", "create", "configmap", "settings", "--from-literal=mode=fast")
        kubectl(
            kc,
            "-n",
            "shop",
            "create",
            "deployment",
            "web",
            "--image=nginx:1.27",
            "--port=8080",
            "--replicas=2",
        )
        assert fake.get("ConfigMap", "settings", "shop")["data"] == {"mode": "fast"}
        dep = fake.get("Deployment", "web", "shop")
        container = dep["spec"]["template"]["spec"]["containers"][0]
        assert (dep["spec"]["replicas"], container["image"], container["ports"]) == (
            2,
            "nginx:1.27",
            [{"containerPort": 8080, "protocol": "TCP"}],
        )
        assert {r.content_type for r in fake.api_requests() if r.verb == "create"} == {
            "application/vnd.kubernetes.protobuf"
        }
        assert "successfully rolled out" in kubectl(kc, "-n", "shop", "rollout", "status", "deployment/web")
        fake.rbac = {"bob": {("list", "pods")}}  # `auth can-i` asks with a SelfSubjectAccessReview
        assert kubectl(kc, "-n", "shop", "auth", "can-i", "list", "pods", "--as", "bob") == "yes\n"
        done = subprocess.run(
            [
                "kubectl",
                "--kubeconfig",
                str(kc),
                "-n",
                "shop",
                "auth",
                "can-i",
                "delete",
                "pods",
                "--as",
                "bob",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (done.returncode, done.stdout) == (1, "no\n")
    finally:
        fake.stop()

"""Bad input is refused before any request; API failures become one clear line; nothing crashes."""

from __future__ import annotations

import pytest

from cluster import errors
from cluster.delete import delete_app
from cluster.deploy import deploy
from cluster.migrate import migrate
from cluster.names import VolumeSpec
from cluster.preflight import preflight
from cluster.rollback import list_revisions, rollback
from cluster.rollout import RolloutWatcher
from cluster.status import app_status
from cluster.target import from_kubeconfig
from cluster.volumes import StorageClassSpec, create_claim, create_storage_class

BAD_CALLS = {
    "deploy app": lambda t: deploy(t, "Web_App", "nginx:1"),
    "deploy image": lambda t: deploy(t, "web", "nginx 1; rm -rf /"),
    "deploy volume": lambda t: deploy(t, "web", "nginx:1", volumes=[VolumeSpec.parse("Data:/mnt")]),
    "volume path": lambda t: deploy(t, "web", "nginx:1", volumes=[VolumeSpec.parse("data:mnt")]),
    "storage class": lambda t: create_storage_class(t, StorageClassSpec("GP3!")),
    "claim name": lambda t: create_claim(t, "-data", "10Gi"),
    "claim size": lambda t: create_claim(t, "data", "ten gigs"),
    "claim class": lambda t: create_claim(t, "data", "1Gi", "Bad Class"),
    "status": lambda t: app_status(t, "x" * 64),
    "rollback": lambda t: rollback(t, "web.app"),
    "revisions": lambda t: list_revisions(t, "UPPER"),
    "migrate claim": lambda t: migrate(t, "web", claim="no_underscores"),
    "migrate path": lambda t: migrate(t, "web", claim="data", source="usr"),
    "delete": lambda t: list(delete_app(t, "web/../../x")),
    "rollout": lambda t: list(RolloutWatcher(t, "")),
    "namespace": lambda t: t.in_namespace("Prod"),
}


@pytest.mark.parametrize("call", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_invalid_input_is_refused_before_any_request(fake_kube, target, call):
    with pytest.raises((errors.InvalidName, errors.InvalidInput)) as err:
        call(target)
    assert "\n" not in str(err.value) and len(str(err.value)) < 250
    assert fake_kube.api_requests() == []


def test_not_found_is_one_line(target):
    with pytest.raises(errors.NotFound) as err:
        app_status(target, "ghost")
    assert str(err.value) == 'status of ghost: not found: deployments.apps "ghost" not found'


def test_forbidden_is_one_line(fake_kube, target):
    fake_kube.forbid(verb="create", plural="storageclasses")
    with pytest.raises(errors.Forbidden) as err:
        create_storage_class(target, StorageClassSpec("gp3"))
    assert str(err.value).startswith("create storage class gp3: forbidden by the cluster's RBAC (403): ")


def test_already_exists_is_one_line(target):
    create_storage_class(target, StorageClassSpec("gp3"))
    with pytest.raises(errors.Conflict, match="already exists"):
        create_storage_class(target, StorageClassSpec("gp3"))


def unknown_field(manifest):  # a k8orization hook that misspells a field
    manifest["spec"]["template"]["spec"]["containers"][0]["livenessProbe"] = {
        "httpGet": {"port": 80, "pth": "/"}
    }
    return manifest


def port_out_of_range(manifest):  # a k8orization hook that writes a value no cluster accepts
    manifest["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 70000}]
    return manifest


@pytest.mark.parametrize(
    ("hook", "line"),
    [
        # Server-side apply of an undeclared field: a real API server's 500 (an upstream bug).
        (
            unknown_field,
            'deploy web: the cluster refused Deployment "web": unknown field '
            '.spec.template.spec.containers[name="web"].livenessProbe.httpGet.pth '
            "(not in the Deployment schema)",
        ),
        # A 422, `Deployment.apps "web" is invalid: ...`, read from its causes.
        (
            port_out_of_range,
            'deploy web: the cluster refused Deployment "web": spec.template.spec.containers[0].ports[0]'
            ".containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        ),
    ],
    ids=["apply-500", "invalid-422"],
)
def test_a_refused_object_is_one_line_naming_the_field(fake_kube, target, hook, line):
    with pytest.raises(errors.Invalid) as err:
        deploy(target, "web", "nginx:1.27", k8orize=hook)
    assert str(err.value) == line
    assert fake_kube.get("Deployment", "web", "default") is None


def test_unreachable_cluster_is_one_line_and_preflight_says_so(kubeconfig):
    down = from_kubeconfig(str(kubeconfig), "down")
    with pytest.raises(errors.Unreachable) as err:
        app_status(down, "web")
    assert str(err.value) == "status of web: the cluster is unreachable (connection refused)."
    lines = [c.line for c in preflight(down)]
    assert lines[0].startswith("✗ Cluster reachable: ") and "unreachable" in lines[0]
    assert all(line.endswith("skipped: cluster unreachable") for line in lines[1:])


def test_timeout_is_one_line(fake_kube, target):
    fake_kube.delay = 1.0
    with pytest.raises(errors.Timeout) as err:
        app_status(target.with_timeout(0.2), "web")
    assert str(err.value) == "status of web: the cluster did not answer in time."


def test_unknown_context_is_one_line(kubeconfig):
    with pytest.raises(errors.TargetError, match=r"context 'prod' is not in the kubeconfig \(contexts: fake"):
        from_kubeconfig(str(kubeconfig), "prod")


def test_claim_that_cannot_bind_explains_why(target):
    status = create_claim(target, "data", "1Gi", "missing-class", timeout=5)
    assert status.state == "failed" and not status.bound
    assert status.reason == 'ProvisioningFailed: storageclass.storage.k8s.io "missing-class" not found'


def test_claim_waiting_for_a_consumer_says_so(target):
    create_storage_class(target, StorageClassSpec("late", binding_mode="WaitForFirstConsumer"))
    status = create_claim(target, "data", "1Gi", "late", timeout=5)
    assert status.state == "waiting" and "first consumer" in status.reason


def test_claim_whose_provisioner_fails_says_so_while_the_controller_keeps_talking(fake_kube, target):
    """The PV controller records ExternalProvisioning again at every resync, after the provisioner's
    failure: the claim is read by the events' reasons and times, not by which came last."""
    fake_kube.failing_provisioners.add("ebs.csi.aws.com")
    create_storage_class(target, StorageClassSpec("gp3"))
    status = create_claim(target, "data", "1Gi", "gp3", timeout=5)
    assert status.state == "failed" and not status.bound
    assert status.reason == (
        'ProvisioningFailed: failed to provision volume with StorageClass "gp3": '
        "rpc error: code = Internal desc = could not create volume"
    )

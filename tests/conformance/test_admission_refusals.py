"""Behaviour 2: admission refuses a Deployment's pods; the ReplicaSet says so, and the Deployment copies it.

Sources: plugin/pkg/admission/serviceaccount/admission.go, plugin/pkg/admission/runtimeclass/
admission.go, k8s.io/pod-security-admission/policy, plugin/pkg/admission/resourcequota/controller.go
and pkg/quota/v1/evaluator/core/pods.go (the refusals, as admission.NewForbidden);
pkg/controller/controller_utils.go (the `FailedCreate` event, `Error creating: ...`);
pkg/controller/replicaset/replica_set_utils.go (the ReplicaFailure condition, reason FailedCreate);
pkg/controller/deployment/progress.go getReplicaFailures (copied onto the Deployment).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from .harness import Cluster, condition, deployment

APPS = "apps/v1"


@dataclass(frozen=True)
class Case:
    name: str
    pod: dict
    refusal: str  # a regular expression; {ns} is the test's namespace
    prepare: Callable[[Cluster], None] = lambda cluster: None
    replicas: int = 1
    source: str = ""


def restricted_namespace(cluster: Cluster) -> None:
    patch = {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}
    answer = cluster.request(
        "PATCH", f"/api/v1/namespaces/{cluster.namespace}", patch, "application/merge-patch+json"
    )
    assert answer.status == 200, answer.message


def quota(hard: dict) -> Callable[[Cluster], None]:
    def make(cluster: Cluster) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "compute"},
            "spec": {"hard": hard},
        }
        cluster.create("v1", "resourcequotas", body)

    return make


PLAIN = {"container": {"securityContext": {}}}
CASES = [
    Case(
        "missing-serviceaccount",
        {"serviceAccountName": "conformance-missing"},
        r"error looking up service account {ns}/conformance-missing: "
        r'serviceaccount "conformance-missing" not found',
        source="plugin/pkg/admission/serviceaccount/admission.go",
    ),
    Case(
        "missing-runtimeclass",
        {"runtimeClassName": "conformance-missing"},
        r'pod rejected: RuntimeClass "conformance-missing" not found',
        source="plugin/pkg/admission/runtimeclass/admission.go",
    ),
    Case(
        "pod-security-restricted",
        PLAIN,
        r'violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false '
        r'\(container "app" must set securityContext.allowPrivilegeEscalation=false\), '
        r'unrestricted capabilities \(container "app" must set '
        r'securityContext.capabilities.drop=\["ALL"\]\), '
        r'runAsNonRoot != true \(pod or container "app" must set securityContext.runAsNonRoot=true\), '
        r'seccompProfile \(pod or container "app" must set securityContext.seccompProfile.type to '
        r'"RuntimeDefault" or "Localhost"\)',
        prepare=restricted_namespace,
        source="k8s.io/pod-security-admission/policy/check_*.go",
    ),
    Case(
        "quota-must-specify",
        {},
        r"failed quota: compute: must specify limits.cpu for: app",
        prepare=quota({"limits.cpu": "2"}),
        source="pkg/quota/v1/evaluator/core/pods.go Constraints",
    ),
    Case(
        "quota-exceeded",
        {},
        r"exceeded quota: compute, requested: pods=1, used: pods=1, limited: pods=1",
        prepare=quota({"pods": "1"}),
        replicas=2,
        source="plugin/pkg/admission/resourcequota/controller.go checkRequest",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_refused_pods_surface_as_replica_failure(cluster: Cluster, case: Case) -> None:
    case.prepare(cluster)
    cluster.create(APPS, "deployments", deployment(replicas=case.replicas, **dict(case.pod)))
    refusal = re.compile(
        r'pods "web-[a-z0-9]+-" is forbidden: ' + case.refusal.replace("{ns}", cluster.namespace)
    )

    def failed_replica_set() -> dict | None:
        listed = cluster.request("GET", cluster.path(APPS, "replicasets")).body.get("items", [])
        return next((rs for rs in listed if condition(rs, "ReplicaFailure")), None)

    rs = cluster.eventually(failed_replica_set, "a ReplicaSet with ReplicaFailure")
    failure = condition(rs, "ReplicaFailure")
    assert (failure["status"], failure["reason"]) == ("True", "FailedCreate")
    assert refusal.fullmatch(failure["message"]), failure["message"]
    events = cluster.events_about("ReplicaSet", rs["metadata"]["name"])
    created = [e for e in events if e["reason"] == "FailedCreate"]
    assert created and created[0]["type"] == "Warning"
    assert created[0]["message"] == "Error creating: " + failure["message"]

    def copied() -> dict | None:
        dep = cluster.get(APPS, "deployments", "web")
        return condition(dep, "ReplicaFailure")

    on_deployment = cluster.eventually(copied, "ReplicaFailure on the Deployment")
    assert (on_deployment["reason"], on_deployment["message"]) == ("FailedCreate", failure["message"])

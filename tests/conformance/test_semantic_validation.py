"""Behaviour 3: what the schema allows but validation refuses, each a 422 naming the field, in the API
server's words.

Sources: pkg/apis/core/validation/validation.go (ValidateResourceRequirements: request above limit;
validateContainerPorts with validation.IsValidPortNum; validateSeccompProfileField: Localhost needs
localhostProfile), staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go ValidateLabels
(IsValidLabelValue: at most 63 characters), pkg/apis/apps/validation/validation.go
ValidateDeploymentStrategy (Recreate with rollingUpdate); errors.NewInvalid for the message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from .harness import Cluster, deployment

APPS = "apps/v1"
CONTAINER = "spec.template.spec.containers[0]"


@dataclass(frozen=True)
class Case:
    name: str
    change: Callable[[dict], None]
    field: str
    body: str  # the cause's message: ErrorBody


def container(body: dict) -> dict:
    return body["spec"]["template"]["spec"]["containers"][0]


def memory_over_limit(body: dict) -> None:
    container(body)["resources"] = {"requests": {"memory": "512Mi"}, "limits": {"memory": "256Mi"}}


def long_label(body: dict) -> None:
    body["metadata"]["labels"]["team"] = "x" * 70


def localhost_seccomp(body: dict) -> None:
    container(body)["securityContext"]["seccompProfile"] = {"type": "Localhost"}


def recreate_with_rolling_update(body: dict) -> None:
    body["spec"]["strategy"] = {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}


def port_out_of_range(body: dict) -> None:
    container(body)["ports"] = [{"containerPort": 70000}]


CASES = [
    Case(
        "request-above-limit",
        memory_over_limit,
        f"{CONTAINER}.resources.requests",
        'Invalid value: "512Mi": must be less than or equal to memory limit of 256Mi',
    ),
    Case(
        "label-value-too-long",
        long_label,
        "metadata.labels",
        f'Invalid value: "{"x" * 70}": must be no more than 63 characters',
    ),
    Case(
        "localhost-seccomp-without-profile",
        localhost_seccomp,
        f"{CONTAINER}.securityContext.seccompProfile.localhostProfile",
        "Required value: must be set when seccomp type is Localhost",
    ),
    Case(
        "recreate-with-rolling-update",
        recreate_with_rolling_update,
        "spec.strategy.rollingUpdate",
        "Forbidden: may not be specified when strategy `type` is 'Recreate'",
    ),
    Case(
        "port-out-of-range",
        port_out_of_range,
        f"{CONTAINER}.ports[0].containerPort",
        "Invalid value: 70000: must be between 1 and 65535, inclusive",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_semantic_validation_refuses_with_422(cluster: Cluster, case: Case) -> None:
    body = deployment()
    case.change(body)
    answer = cluster.request("POST", cluster.path(APPS, "deployments"), body)
    assert answer.status == 422, answer
    assert answer.body["reason"] == "Invalid"
    assert answer.message == f'Deployment.apps "web" is invalid: {case.field}: {case.body}'
    causes = answer.body["details"]["causes"]
    assert [(c["field"], c["message"]) for c in causes] == [(case.field, case.body)]
    assert cluster.get(APPS, "deployments", "web") is None

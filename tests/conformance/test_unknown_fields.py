"""Behaviour 1: what each way of writing does with a field the schema does not declare, and how a 422
reads.

Sources: staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go fieldValidation (absent means
Warn) and the create/update/patch handlers (Strict: a 400 `strict decoding error`; Warn: the field is
dropped and named in a Warning header); staging/src/k8s.io/apimachinery/pkg/util/managedfields/
internal/structuredmerge.go (server-side apply: the plain `failed to create typed patch object` error
becomes a 500 whatever fieldValidation says — an upstream bug, kubernetes/kubernetes#122480 and
#139253, modelled as it is); staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go NewInvalid
(`Deployment.apps "web" is invalid: ...`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .harness import APPLY, JSON, MERGE, Cluster, deployment

APPS = "apps/v1"
TYPO = "imagePullPolicyy"
DOTTED = f"spec.template.spec.containers[0].{TYPO}"


def with_typo() -> dict:
    body = deployment()
    body["spec"]["template"]["spec"]["containers"][0][TYPO] = "Always"
    return body


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    content_type: str
    query: dict
    status: int
    message: str  # {ns}: the namespace; empty: no message to check
    warned: bool = False
    existing: bool = False  # the Deployment exists before the write
    reason: str | None = None  # the Status reason; None: the body has none


CASES = [
    Case("post-default-warns", "POST", JSON, {}, 201, "", warned=True),
    Case("post-ignore", "POST", JSON, {"fieldValidation": "Ignore"}, 201, ""),
    Case(
        "post-strict",
        "POST",
        JSON,
        {"fieldValidation": "Strict"},
        400,
        'Deployment in version "v1" cannot be handled as a Deployment: '
        f'strict decoding error: unknown field "{DOTTED}"',
        reason="BadRequest",
    ),
    Case("put-default-warns", "PUT", JSON, {}, 200, "", warned=True, existing=True),
    Case("merge-patch-default-warns", "PATCH", MERGE, {}, 200, "", warned=True, existing=True),
    Case(
        "apply-is-a-500",
        "PATCH",
        APPLY,
        {"fieldManager": "conformance"},
        500,
        "failed to create typed patch object ({ns}/web; apps/v1, Kind=Deployment): "
        f'.spec.template.spec.containers[name="app"].{TYPO}: field not declared in schema',
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_unknown_fields(cluster: Cluster, case: Case) -> None:
    if case.existing:
        cluster.create(APPS, "deployments", deployment())
    path = cluster.path(APPS, "deployments", "" if case.method == "POST" else "web")
    body = with_typo()  # PUT without a resourceVersion (Deployments allow it): no race with the controller
    answer = cluster.request(case.method, path, body, case.content_type, case.query)
    assert answer.status == case.status, answer
    if case.status >= 400:
        assert answer.message == case.message.replace("{ns}", cluster.namespace)
        assert answer.body.get("reason") == case.reason
        assert cluster.get(APPS, "deployments", "web") is None or case.existing
        return
    stored = cluster.get(APPS, "deployments", "web")
    assert TYPO not in stored["spec"]["template"]["spec"]["containers"][0]
    expected = (f'299 - "unknown field \\"{DOTTED}\\""',) if case.warned else ()
    assert answer.warnings == expected


def test_invalid_reads_group_kind_name_and_field(cluster: Cluster) -> None:
    body = deployment()
    body["spec"]["replicas"] = -1
    answer = cluster.request("POST", cluster.path(APPS, "deployments"), body)
    assert answer.status == 422 and answer.body["reason"] == "Invalid"
    message = 'Deployment.apps "web" is invalid: spec.replicas: '
    message += "Invalid value: -1: must be greater than or equal to 0"
    assert answer.message == message
    details = answer.body["details"]
    assert (details["group"], details["kind"], details["name"]) == ("apps", "Deployment", "web")
    assert details["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "field": "spec.replicas",
            "message": "Invalid value: -1: must be greater than or equal to 0",
        }
    ]

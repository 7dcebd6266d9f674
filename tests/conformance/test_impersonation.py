"""Behaviour 12: impersonation is authorized, and the acting identity's groups count in RBAC.

Sources: staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go (each user and group
impersonated is an `impersonate` check for the requester; groups without a user are refused with
responsewriters.InternalError's plain-text 500; the acting user gets system:authenticated);
staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go forbiddenMessage;
plugin/pkg/auth/authorizer/rbac (a user's groups are subjects of bindings too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from .harness import Cluster

NOBODY = "conformance-nobody"


@dataclass(frozen=True)
class Case:
    name: str
    headers: dict
    status: int
    says: str  # a regular expression over the message (or the plain-text body); {ns}: the namespace


CASES = [
    Case(
        "user-without-permissions",
        {"Impersonate-User": NOBODY},
        403,
        rf'pods is forbidden: User "{NOBODY}" cannot list resource "pods" in API group "" '
        r'in the namespace "{ns}"',
    ),
    Case("a-group-that-may", {"Impersonate-User": NOBODY, "Impersonate-Group": "system:masters"}, 200, ""),
    Case(
        "groups-without-a-user",
        {"Impersonate-Group": "system:masters"},
        500,
        r'Internal Server Error: "[^"]*": requested \[.*system:masters.*\] without impersonating a user\s*',
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_impersonation(cluster: Cluster, case: Case) -> None:
    answer = cluster.request("GET", cluster.path("v1", "pods"), headers=case.headers)
    assert answer.status == case.status, answer
    if case.says:
        assert re.fullmatch(case.says.replace("{ns}", cluster.namespace), answer.message), answer.message
    if case.status == 403:
        assert answer.body["reason"] == "Forbidden"

"""Behaviour 10: server-side apply's ownership — the same value applied by two managers is shared, a
different value conflicts (409 naming the manager and the field) unless forced, and an apply that
changes nothing writes nothing.

Sources: https://kubernetes.io/docs/reference/using-api/server-side-apply/ (Conflicts; "managers
that apply the same value share ownership"); staging/src/k8s.io/apimachinery/pkg/util/managedfields/
internal/conflict.go (the message) and managedfieldsupdater.go (a manager's time moves only when its
fields change, so a no-op apply is not a write).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from .harness import APPLY, Cluster, deployment

APPS = "apps/v1"


@dataclass(frozen=True)
class Case:
    name: str
    second_manager: str
    second_replicas: int
    force: bool
    status: int
    message: str = ""


CASES = [
    Case("same-value-shared", "second", 1, False, 200),
    Case(
        "other-value-conflicts",
        "second",
        3,
        False,
        409,
        'Apply failed with 1 conflict: conflict with "first": .spec.replicas',
    ),
    Case("forced-takes-over", "second", 3, True, 200),
    Case("no-op-writes-nothing", "first", 1, False, 200),
]


def apply(cluster: Cluster, manager: str, replicas: int, force: bool = False):
    query = {"fieldManager": manager, **({"force": "true"} if force else {})}
    path = cluster.path(APPS, "deployments", "web")
    return cluster.request("PATCH", path, deployment(replicas=replicas), APPLY, query)


def owners(obj: dict, field: str) -> set[str]:
    return {
        entry["manager"]
        for entry in obj["metadata"]["managedFields"]
        if field in (entry.get("fieldsV1") or {}).get("f:spec", {})
    }


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_server_side_apply_ownership(cluster: Cluster, case: Case) -> None:
    assert apply(cluster, "first", 1).status == 201
    # Let the controller settle the status, so a no-op apply is the only possible write.
    cluster.eventually(
        lambda: (cluster.get(APPS, "deployments", "web").get("status") or {}).get("observedGeneration"),
        "the Deployment observed",
    )
    before = cluster.get(APPS, "deployments", "web")
    if case.name == "no-op-writes-nothing":
        time.sleep(1.1)  # managedFields times have second precision: a re-stamp would show
    answer = apply(cluster, case.second_manager, case.second_replicas, case.force)
    assert answer.status == case.status, answer
    if case.message:
        assert answer.message == case.message and answer.body["reason"] == "Conflict"
        assert answer.body["details"]["causes"] == [
            {"reason": "FieldManagerConflict", "message": 'conflict with "first"', "field": ".spec.replicas"}
        ]
        return
    stored = answer.body
    expected = {"first", "second"} if case.name == "same-value-shared" else {case.second_manager}
    assert owners(stored, "f:replicas") == expected
    if case.name == "no-op-writes-nothing":
        assert stored["metadata"]["managedFields"] == before["metadata"]["managedFields"]
        assert stored["metadata"]["generation"] == before["metadata"]["generation"]

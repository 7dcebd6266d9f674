"""Behaviours 6 and 8: foreground deletion finishes whether or not the pods were ever scheduled; a
deleted pod on a node stays Terminating for its grace period, one on no node goes at once.

Sources: pkg/controller/garbagecollector/garbagecollector.go (attemptToDeleteItem: a leaf dependent
of an owner in foreground deletion is deleted in the background); pkg/registry/core/pod/strategy.go
CheckGracefulDelete (the request's grace, else terminationGracePeriodSeconds; 0 for a pod on no
node); staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go (an object with
finalizers or a grace period gets a deletionTimestamp and stays).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .harness import IMAGE, Cluster, deployment

APPS = "apps/v1"
NOWHERE = {"conformance.k8or.example/none": "true"}


@dataclass(frozen=True)
class ForegroundCase:
    name: str
    node_selector: dict | None


FOREGROUND = [ForegroundCase("running-pods", None), ForegroundCase("unscheduled-pods", NOWHERE)]


@pytest.mark.parametrize("case", FOREGROUND, ids=[c.name for c in FOREGROUND])
def test_foreground_deletion_finishes(cluster: Cluster, case: ForegroundCase) -> None:
    pod = {"nodeSelector": case.node_selector} if case.node_selector else {}
    cluster.create(APPS, "deployments", deployment(replicas=2, **pod))

    def pods() -> list[dict]:
        return cluster.request("GET", cluster.path("v1", "pods")).body.get("items", [])

    placed = (lambda p: bool(p["spec"].get("nodeName"))) if not case.node_selector else (lambda p: True)
    cluster.eventually(lambda: len(pods()) == 2 and all(placed(p) for p in pods()), "two pods")
    options = {"propagationPolicy": "Foreground"}
    answer = cluster.request("DELETE", cluster.path(APPS, "deployments", "web"), options)
    assert answer.status == 200, answer.message
    marked = cluster.get(APPS, "deployments", "web")
    if marked is not None:  # it can be gone already; while it is not, it says why it waits
        assert (
            marked["metadata"]["deletionTimestamp"]
            and "foregroundDeletion" in marked["metadata"]["finalizers"]
        )

    def all_gone() -> bool:
        sets = cluster.request("GET", cluster.path(APPS, "replicasets")).body.get("items", [])
        return cluster.get(APPS, "deployments", "web") is None and not sets and not pods()

    cluster.eventually(all_gone, "the Deployment, its ReplicaSet and its pods gone")


@dataclass(frozen=True)
class GraceCase:
    name: str
    node_selector: dict | None
    options: dict
    grace: int | None  # the deletionGracePeriodSeconds the Terminating pod shows; None: gone at once


GRACE = [
    GraceCase("default-grace", None, {}, 30),
    GraceCase("requested-grace", None, {"gracePeriodSeconds": 20}, 20),
    GraceCase("unscheduled", NOWHERE, {}, None),
]


@pytest.mark.parametrize("case", GRACE, ids=[c.name for c in GRACE])
def test_deleted_pods_terminate_gracefully(cluster: Cluster, case: GraceCase) -> None:
    spec: dict = {"containers": [{"name": "app", "image": IMAGE}]}
    if case.node_selector:
        spec["nodeSelector"] = case.node_selector
    cluster.create("v1", "pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
    if not case.node_selector:
        cluster.eventually(
            lambda: ((cluster.get("v1", "pods", "p") or {}).get("status") or {}).get("phase") == "Running",
            "the pod running",
        )
    answer = cluster.request("DELETE", cluster.path("v1", "pods", "p"), case.options or None)
    assert answer.status == 200, answer.message
    assert answer.body["metadata"]["name"] == "p"
    if case.grace is None:
        assert cluster.get("v1", "pods", "p") is None
        return
    meta = answer.body["metadata"]
    assert meta["deletionTimestamp"] and meta["deletionGracePeriodSeconds"] == case.grace
    cluster.eventually(lambda: cluster.get("v1", "pods", "p") is None, "the pod gone after its grace period")

"""Behaviour 4: a Deployment's ReplicaSets inherit its annotations (change-cause among them), so
`rollout history` shows them and `rollout undo` brings them back.

Source: pkg/controller/deployment/util/deployment_util.go (SetNewReplicaSetAnnotations,
copyDeploymentAnnotationsToReplicaSet: every annotation but annotationsToSkip — last-applied
configuration, revision, revision-history, desired-replicas, max-replicas — is copied, added or
changed, never removed); staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollback.go (undo takes
the ReplicaSet's annotations back onto the Deployment).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .harness import MERGE, Cluster, deployment

APPS = "apps/v1"
CAUSE = "kubernetes.io/change-cause"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass(frozen=True)
class Case:
    name: str
    annotations: dict
    then: dict  # a merge patch of the Deployment's annotations afterwards (no template change)
    inherited: dict  # what the ReplicaSet carries in the end (besides the controller's own)
    absent: tuple[str, ...] = ()


CASES = [
    Case("copied", {CAUSE: "first", "example.com/note": "a"}, {}, {CAUSE: "first", "example.com/note": "a"}),
    Case("updated", {CAUSE: "first"}, {CAUSE: "second"}, {CAUSE: "second"}),
    Case(
        "never-removed",  # the cause changing shows the controller saw the patch that dropped the note
        {CAUSE: "first", "example.com/note": "a"},
        {CAUSE: "second", "example.com/note": None},
        {CAUSE: "second", "example.com/note": "a"},
    ),
    Case("not-copied", {CAUSE: "first", LAST_APPLIED: "{}"}, {}, {CAUSE: "first"}, absent=(LAST_APPLIED,)),
]


def the_replica_set(cluster: Cluster) -> dict | None:
    items = cluster.request("GET", cluster.path(APPS, "replicasets")).body.get("items", [])
    return items[0] if len(items) == 1 else None


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_replicasets_inherit_the_deployments_annotations(cluster: Cluster, case: Case) -> None:
    body = deployment()
    body["metadata"]["annotations"] = dict(case.annotations)
    cluster.create(APPS, "deployments", body)
    cluster.eventually(lambda: the_replica_set(cluster), "the Deployment's ReplicaSet")
    if case.then:
        patch = {"metadata": {"annotations": case.then}}
        answer = cluster.request("PATCH", cluster.path(APPS, "deployments", "web"), patch, MERGE)
        assert answer.status == 200, answer.message

    def settled() -> dict | None:
        rs = the_replica_set(cluster)
        annotations = (rs or {}).get("metadata", {}).get("annotations") or {}
        return annotations if all(annotations.get(k) == v for k, v in case.inherited.items()) else None

    annotations = cluster.eventually(settled, f"the ReplicaSet's annotations {case.inherited}")
    assert annotations["deployment.kubernetes.io/revision"] == "1"
    assert not any(key in annotations for key in case.absent)

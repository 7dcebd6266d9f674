"""Behaviour 7: `dryRun=All` on every write — create, replace, patch, server-side apply, delete —
answers as the write would and stores nothing; any other value is refused and changes nothing.

Sources: staging/src/k8s.io/apiserver/pkg/endpoints/handlers (create.go, update.go, patch.go,
delete.go: options decoded and validated before anything is done) and
staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go ValidateDryRun (only
"All"; the 422 is on the request's options object).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .harness import APPLY, JSON, MERGE, Cluster, deployment

APPS = "apps/v1"


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    content_type: str
    query: dict
    status: int
    options: str = ""  # the options object a refusal names


def body_for(case: Case, cluster: Cluster) -> dict | None:
    if case.method == "DELETE":
        return None
    changed = deployment(replicas=3)  # a PUT without resourceVersion: Deployments allow it
    if case.method == "PATCH" and case.content_type == MERGE:
        return {"spec": {"replicas": 3}}
    return changed


CASES = [
    Case("create", "POST", JSON, {"dryRun": "All"}, 201),
    Case("replace", "PUT", JSON, {"dryRun": "All"}, 200),
    Case("merge-patch", "PATCH", MERGE, {"dryRun": "All"}, 200),
    Case("apply", "PATCH", APPLY, {"dryRun": "All", "fieldManager": "conformance", "force": "true"}, 200),
    Case("delete", "DELETE", JSON, {"dryRun": "All"}, 200),
    Case("create-yes", "POST", JSON, {"dryRun": "Yes"}, 422, "CreateOptions"),
    Case("patch-yes", "PATCH", MERGE, {"dryRun": "Yes"}, 422, "PatchOptions"),
    Case("delete-yes", "DELETE", JSON, {"dryRun": "Yes"}, 422, "DeleteOptions"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_dry_run(cluster: Cluster, case: Case) -> None:
    if case.method != "POST":
        cluster.create(APPS, "deployments", deployment())
    before = cluster.get(APPS, "deployments", "web")
    path = cluster.path(APPS, "deployments", "" if case.method == "POST" else "web")
    answer = cluster.request(case.method, path, body_for(case, cluster), case.content_type, case.query)
    assert answer.status == case.status, answer
    if case.options:
        assert answer.message == (
            f'{case.options}.meta.k8s.io "" is invalid: '
            'dryRun: Unsupported value: []string{"Yes"}: supported values: "All"'
        )
    elif case.method == "DELETE":
        assert answer.body["metadata"]["name"] == "web"
    else:
        assert answer.body["spec"]["replicas"] == 3  # the answer shows the write...
    after = cluster.get(APPS, "deployments", "web")
    if before is None:
        assert after is None  # ...nothing was stored
    else:  # (its status may have moved on: the controller writes it)
        assert after is not None and after["metadata"]["generation"] == before["metadata"]["generation"]
        assert after["spec"]["replicas"] == 1 and not after["metadata"].get("deletionTimestamp")

"""Behaviour 13: list options are checked — an unsupported field selector and a malformed label
selector are 400s — and `limit`/`continue` page through a list.

Sources: staging/src/k8s.io/apiserver/pkg/endpoints/handlers/get.go ListResource (field labels go
through the kind's conversion; a failure is a BadRequest), pkg/apis/core/v1/conversion.go (`field
label not supported: ...`), staging/src/k8s.io/apimachinery/pkg/runtime/scheme.go
DefaultMetaV1FieldSelectorConversion (kinds without a conversion), staging/src/k8s.io/apimachinery/
pkg/labels/selector.go (Parse); https://kubernetes.io/docs/reference/using-api/api-concepts/
#retrieving-large-results-sets-in-chunks (limit, continue, remainingItemCount).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .harness import Cluster

APPS = "apps/v1"


@dataclass(frozen=True)
class Case:
    name: str
    api_version: str
    plural: str
    query: dict
    says: str  # the 400's message ("" when only the code is pinned)


CASES = [
    Case(
        "pods-unknown-field",
        "v1",
        "pods",
        {"fieldSelector": "spec.nope=x"},
        "field label not supported: spec.nope",
    ),
    Case(
        "deployments-unknown-field",
        APPS,
        "deployments",
        {"fieldSelector": "spec.replicas=1"},
        '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
    ),
    Case("label-selector-malformed", "v1", "pods", {"labelSelector": "tier in (web"}, ""),
    Case("label-value-too-long", "v1", "pods", {"labelSelector": "tier=" + "x" * 64}, ""),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_list_options_that_cannot_be_served_are_400(cluster: Cluster, case: Case) -> None:
    answer = cluster.request("GET", cluster.path(case.api_version, case.plural), query=case.query)
    assert answer.status == 400 and answer.body["reason"] == "BadRequest", answer
    if case.says:
        assert answer.message == case.says


def test_limit_and_continue_page_through_a_list(cluster: Cluster) -> None:
    for n in range(5):
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{n}"}}
        cluster.create("v1", "configmaps", cm)
    seen: list[str] = []
    query: dict = {"limit": "2"}
    pages = []
    while True:
        answer = cluster.request("GET", cluster.path("v1", "configmaps"), query=query)
        assert answer.status == 200, answer
        pages.append(answer.body)
        seen += [
            i["metadata"]["name"] for i in answer.body["items"] if i["metadata"]["name"].startswith("cm-")
        ]
        token = answer.body["metadata"].get("continue")
        if not token:
            break
        query = {"limit": "2", "continue": token}
    assert seen == [f"cm-{n}" for n in range(5)]
    assert all(len(p["items"]) <= 2 for p in pages) and len(pages) >= 3
    assert pages[0]["metadata"]["remainingItemCount"] >= 3  # kube-root-ca.crt may be there too
    answer = cluster.request("GET", cluster.path("v1", "configmaps"), query={"limit": "2", "continue": "??"})
    assert answer.status == 400

"""Behaviour 14: what planned work needs — coordination.k8s.io Leases (MicroTime, optimistic
concurrency) and SelfSubjectAccessReview (what the requester, or whom it impersonates, may do).

Sources: staging/src/k8s.io/api/coordination/v1/types.go; staging/src/k8s.io/apimachinery/pkg/apis/
meta/v1/micro_time.go (RFC3339Micro: six fractional digits read and written, UTC);
staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go (a stale resourceVersion is a
409, errors.NewConflict; none, where the strategy refuses unconditional updates as
pkg/registry/coordination/lease/strategy.go does, a 422);
pkg/registry/authorization/selfsubjectaccessreview/rest.go (answered for the request's user,
nothing stored; system:basic-user lets every authenticated user ask).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .harness import Cluster

LEASES = "coordination.k8s.io/v1"


@dataclass(frozen=True)
class LeaseCase:
    name: str
    renew_time: str
    status: int
    stored: str = ""  # what the API answers for renewTime


LEASE_CASES = [
    LeaseCase("micro-utc", "2026-01-02T03:04:05.123456Z", 201, "2026-01-02T03:04:05.123456Z"),
    LeaseCase("micro-offset", "2026-01-02T05:04:05.123456+02:00", 201, "2026-01-02T03:04:05.123456Z"),
    LeaseCase("whole-seconds", "2026-01-02T03:04:05Z", 400),
]


def lease(renew_time: str) -> dict:
    spec = {"holderIdentity": "replica-a", "leaseDurationSeconds": 15, "renewTime": renew_time}
    return {"apiVersion": LEASES, "kind": "Lease", "metadata": {"name": "leader"}, "spec": spec}


@pytest.mark.parametrize("case", LEASE_CASES, ids=[c.name for c in LEASE_CASES])
def test_leases_keep_micro_times(cluster: Cluster, case: LeaseCase) -> None:
    answer = cluster.request("POST", cluster.path(LEASES, "leases"), lease(case.renew_time))
    assert answer.status == case.status, answer
    if case.status == 400:
        assert answer.body["reason"] == "BadRequest" and "parsing time" in answer.message
        return
    assert answer.body["spec"]["renewTime"] == case.stored
    assert cluster.get(LEASES, "leases", "leader")["spec"]["renewTime"] == case.stored


def test_a_stale_lease_update_conflicts(cluster: Cluster) -> None:
    first = cluster.create(LEASES, "leases", lease("2026-01-02T03:04:05.000001Z"))
    mine = {**first, "spec": {**first["spec"], "holderIdentity": "replica-b"}}
    assert cluster.request("PUT", cluster.path(LEASES, "leases", "leader"), mine).status == 200
    theirs = {**first, "spec": {**first["spec"], "holderIdentity": "replica-c"}}  # read before mine
    answer = cluster.request("PUT", cluster.path(LEASES, "leases", "leader"), theirs)
    assert answer.status == 409 and answer.body["reason"] == "Conflict"
    assert answer.message == (
        'Operation cannot be fulfilled on leases.coordination.k8s.io "leader": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )


def test_a_lease_update_must_name_the_version_it_read(cluster: Cluster) -> None:
    """Leases refuse unconditional updates (strategy AllowUnconditionalUpdate false): a candidate
    cannot overwrite a holder it never read."""
    first = cluster.create(LEASES, "leases", lease("2026-01-02T03:04:05.000001Z"))
    blind = {**first, "metadata": {"name": "leader"}, "spec": {**first["spec"], "holderIdentity": "b"}}
    answer = cluster.request("PUT", cluster.path(LEASES, "leases", "leader"), blind)
    assert answer.status == 422 and answer.body["reason"] == "Invalid", answer
    assert answer.message == (
        'leases.coordination.k8s.io "leader" is invalid: metadata.resourceVersion: Invalid value: 0x0: '
        "must be specified for an update"
    )
    assert cluster.get(LEASES, "leases", "leader")["spec"]["holderIdentity"] == "replica-a"


def test_two_candidates_creating_one_lease(cluster: Cluster) -> None:
    """Of two candidates that found no Lease and create it, one wins; the other hears AlreadyExists."""
    assert (
        cluster.request("POST", cluster.path(LEASES, "leases"), lease("2026-01-02T03:04:05.000001Z")).status
        == 201
    )
    answer = cluster.request("POST", cluster.path(LEASES, "leases"), lease("2026-01-02T03:04:05.000002Z"))
    assert answer.status == 409 and answer.body["reason"] == "AlreadyExists", answer
    assert answer.message == 'leases.coordination.k8s.io "leader" already exists'


@dataclass(frozen=True)
class ReviewCase:
    name: str
    headers: dict
    allowed: bool


REVIEWS = [
    ReviewCase("the-requester", {}, True),
    ReviewCase("someone-without-grants", {"Impersonate-User": "conformance-nobody"}, False),
    ReviewCase(
        "someone-in-a-granted-group",
        {"Impersonate-User": "conformance-nobody", "Impersonate-Group": "system:masters"},
        True,
    ),
]


@pytest.mark.parametrize("case", REVIEWS, ids=[c.name for c in REVIEWS])
def test_self_subject_access_review(cluster: Cluster, case: ReviewCase) -> None:
    attributes = {
        "namespace": cluster.namespace,
        "verb": "create",
        "group": "apps",
        "resource": "deployments",
    }
    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes},
    }
    path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    answer = cluster.request("POST", path, body, headers=case.headers)
    assert answer.status == 201, answer
    assert answer.body["status"]["allowed"] is case.allowed
    assert answer.body["spec"]["resourceAttributes"] == attributes

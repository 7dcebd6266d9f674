"""Behaviour 11: Events in both shapes. The scheduler writes events.k8s.io/v1 events (eventTime in
microseconds, no first/lastTimestamp, no count); the same objects read through either API.

Sources: pkg/scheduler/schedule_one.go (FailedScheduling, action Scheduling, through
k8s.io/client-go/tools/events); pkg/apis/events/v1 conversion (regarding/involvedObject,
note/message, reportingController/reportingComponent, deprecated* fields);
pkg/apis/core/validation/events.go ValidateEventCreate (events.k8s.io/v1 needs eventTime and the
reporting fields); staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/micro_time.go (six digits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from .harness import IMAGE, Cluster

EVENTS = "events.k8s.io/v1"
MICRO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def unschedulable_pod(cluster: Cluster) -> None:
    spec = {
        "containers": [{"name": "app", "image": IMAGE}],
        "nodeSelector": {"conformance.k8or.example/none": "x"},
    }
    cluster.create(
        "v1", "pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stuck"}, "spec": spec}
    )


def test_the_scheduler_writes_new_style_events_both_apis_read(cluster: Cluster) -> None:
    unschedulable_pod(cluster)

    def failed_scheduling() -> dict | None:
        events = cluster.events_about("Pod", "stuck")
        return next((e for e in events if e["reason"] == "FailedScheduling"), None)

    core = cluster.eventually(failed_scheduling, "the scheduler's FailedScheduling event")
    assert core["type"] == "Warning" and core["reportingComponent"] == "default-scheduler"
    assert core["action"] == "Scheduling" and MICRO.match(core["eventTime"])
    assert core["firstTimestamp"] is None and core["lastTimestamp"] is None and "count" not in core
    name = core["metadata"]["name"]
    new = cluster.get(EVENTS, "events", name)
    assert new["regarding"]["name"] == "stuck" and new["note"] == core["message"]
    assert new["reportingController"] == "default-scheduler" and new["eventTime"] == core["eventTime"]
    assert "deprecatedCount" not in new and "message" not in new and "involvedObject" not in new


@dataclass(frozen=True)
class CreateCase:
    name: str
    fields: dict
    status: int
    message: str = ""


NEW_STYLE = {
    "reportingController": "conformance.k8or.example/tester",
    "reportingInstance": "tester-1",
    "action": "Testing",
    "reason": "Checked",
    "type": "Normal",
    "note": "looked at it",
}
CASES = [
    CreateCase("complete", {**NEW_STYLE, "eventTime": "2026-01-02T03:04:05.123456Z"}, 201),
    CreateCase(
        "no-event-time", NEW_STYLE, 422, 'Event.events.k8s.io "checked" is invalid: eventTime: Required value'
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_events_created_through_events_k8s_io(cluster: Cluster, case: CreateCase) -> None:
    regarding = {"apiVersion": "v1", "kind": "Namespace", "name": cluster.namespace}
    body = {"apiVersion": EVENTS, "kind": "Event", "metadata": {"name": "checked"}, "regarding": regarding}
    answer = cluster.request("POST", cluster.path(EVENTS, "events"), {**body, **case.fields})
    assert answer.status == case.status, answer
    if case.status != 201:
        assert answer.message == case.message
        return
    assert answer.body["eventTime"] == case.fields["eventTime"]
    core = cluster.get("v1", "events", "checked")
    assert (core["message"], core["reportingComponent"]) == ("looked at it", NEW_STYLE["reportingController"])
    assert core["involvedObject"]["name"] == cluster.namespace and core["lastTimestamp"] is None

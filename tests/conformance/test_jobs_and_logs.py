"""Behaviour 5: a Job past activeDeadlineSeconds fails with DeadlineExceeded; a log a container does not
have yet is a 400 that says what it waits for.

Sources: pkg/controller/job/job_controller.go (pastActiveDeadline, "Job was active longer than
specified deadline", the DeadlineExceeded event); pkg/registry/core/pod/strategy.go LogLocation (the
container is chosen or refused by the API server; a pod on no node streams nothing);
pkg/kubelet/kubelet_pods.go validateContainerLogStatus (`is waiting to start: ...`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from .harness import IMAGE, Cluster, condition

UNPULLABLE = "registry.invalid/k8or-conformance/doesnotexist:1"


def test_a_job_past_its_deadline_fails_with_deadline_exceeded(cluster: Cluster) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "forever"},
        "spec": {
            "activeDeadlineSeconds": 10,
            "backoffLimit": 0,
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "app", "image": IMAGE}]}},
        },
    }
    cluster.create("batch/v1", "jobs", job)

    def failed() -> dict | None:
        return condition(cluster.get("batch/v1", "jobs", "forever"), "Failed")

    verdict = cluster.eventually(failed, "the Job's Failed condition")
    assert (verdict["status"], verdict["reason"]) == ("True", "DeadlineExceeded")
    assert verdict["message"] == "Job was active longer than specified deadline"
    assert cluster.get("batch/v1", "jobs", "forever")["status"].get("startTime")
    events = cluster.events_about("Job", "forever")
    assert any(e["type"] == "Warning" and e["reason"] == "DeadlineExceeded" for e in events)


@dataclass(frozen=True)
class LogCase:
    name: str
    containers: list
    query: dict
    status: int
    says: str  # a regular expression; {pod} is the pod's name
    node_selector: dict | None = None
    ready: str = ""  # wait until a container waits for this (a regular expression over its reason)


def pod(name: str, containers: list, node_selector: dict | None) -> dict:
    spec: dict = {"containers": containers, "restartPolicy": "Never"}
    if node_selector:
        spec["nodeSelector"] = node_selector
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


TWO = [{"name": "a", "image": IMAGE}, {"name": "b", "image": IMAGE}]
LOG_CASES = [
    LogCase(
        "image-cannot-be-pulled",
        [{"name": "app", "image": UNPULLABLE}],
        {},
        400,
        r'container "app" in pod "{pod}" is waiting to start: '
        r"(image can't be pulled|trying and failing to pull image)",
        ready="ErrImagePull|ImagePullBackOff",
    ),
    LogCase(
        "no-container-named",
        TWO,
        {},
        400,
        r"a container name must be specified for pod {pod}, choose one of: \[a b\]",
    ),
    LogCase(
        "unknown-container", TWO, {"container": "nope"}, 400, r"container nope is not valid for pod {pod}"
    ),
    LogCase(
        "not-on-a-node",
        [{"name": "app", "image": IMAGE}],
        {},
        200,
        r"",
        node_selector={"conformance.k8or.example/none": "true"},
    ),
]


@pytest.mark.parametrize("case", LOG_CASES, ids=[c.name for c in LOG_CASES])
def test_logs_a_container_does_not_have_yet(cluster: Cluster, case: LogCase) -> None:
    cluster.create("v1", "pods", pod("logs", case.containers, case.node_selector))
    if case.ready:

        def waiting() -> bool:
            statuses = ((cluster.get("v1", "pods", "logs") or {}).get("status") or {}).get(
                "containerStatuses"
            )
            reason = (((statuses or [{}])[0].get("state") or {}).get("waiting") or {}).get("reason") or ""
            return bool(re.fullmatch(case.ready, reason))

        cluster.eventually(waiting, f"a container waiting with {case.ready}")
    answer = cluster.request("GET", cluster.path("v1", "pods", "logs") + "/log", query=case.query)
    assert answer.status == case.status, answer
    if case.status == 200:
        assert answer.body in ({}, "")  # an empty stream
    else:
        assert answer.body["reason"] == "BadRequest"
        assert re.fullmatch(case.says.replace("{pod}", "logs"), answer.message), answer.message

"""Cluster trouble folded into incidents: one per app and reason, opened, updated and resolved.

The objects are shaped as the API server sends them (core/v1 Pod and Event, apps/v1 Deployment,
batch/v1 Job), with the reasons and messages the kubelet, scheduler and controllers write.
"""

from __future__ import annotations

from typing import Any

from cluster.incidents import OPENED, RESOLVED, UPDATED, IncidentBook, app_of, pod_findings


def pod(
    name: str = "web-7d9f8b6c5d-x2k4p",
    *,
    waiting: str = "",
    last: dict[str, Any] | None = None,
    restarts: int = 0,
    ready: bool = False,
    phase: str = "Running",
    extra_status: dict[str, Any] | None = None,
    owner: tuple[str, str] | None = ("ReplicaSet", "web-7d9f8b6c5d"),
) -> dict[str, Any]:
    state = {"waiting": {"reason": waiting, "message": f"{waiting} message"}} if waiting else {"running": {}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "shop",
            "labels": {"app.kubernetes.io/name": "web", "pod-template-hash": "7d9f8b6c5d"},
            "ownerReferences": [{"kind": owner[0], "name": owner[1], "controller": True}] if owner else [],
        },
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [
                {
                    "name": "web",
                    "image": "shop/web:2",
                    "ready": ready,
                    "restartCount": restarts,
                    "state": state,
                    "lastState": last or {},
                }
            ],
            **(extra_status or {}),
        },
    }


def terminated(reason: str, code: int) -> dict[str, Any]:
    return {"terminated": {"reason": reason, "exitCode": code}}


def deployment(*, complete: bool, deadline: bool = False) -> dict[str, Any]:
    progressing = (
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
         "message": 'ReplicaSet "web-7d9f8b6c5d" has timed out progressing.'}
        if deadline
        else {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}
    )  # fmt: skip
    counts = {"replicas": 1, "updatedReplicas": 1, "availableReplicas": 1} if complete else {"replicas": 2}
    return {
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "generation": 2},
        "spec": {"replicas": 1},
        "status": {"observedGeneration": 2, "conditions": [progressing], **counts},
    }


def test_a_crash_loop_names_the_last_termination_and_its_exit_code():
    (found,) = pod_findings(pod(waiting="CrashLoopBackOff", last=terminated("Error", 137), restarts=4))
    assert (found.app, found.event, found.reason, found.restarts) == (
        "web",
        "crashloop",
        "CrashLoopBackOff",
        4,
    )
    assert found.detail == "last exit: Error (exit code 137)" and found.owner == "Deployment"


def test_oom_killed_is_the_reason_even_while_it_loops():
    (found,) = pod_findings(pod(waiting="CrashLoopBackOff", last=terminated("OOMKilled", 137), restarts=2))
    assert (found.event, found.reason, found.detail) == (
        "oomkilled",
        "OOMKilled",
        "last exit: OOMKilled (exit code 137)",
    )


def test_err_image_pull_and_image_pull_back_off_are_one_incident():
    book = IncidentBook()
    (opened,) = book.pod("ADDED", pod(waiting="ErrImagePull"))
    (updated,) = book.pod("MODIFIED", pod(waiting="ImagePullBackOff"))
    assert (opened.kind, opened.incident.reason) == (OPENED, "ImagePullBackOff")
    assert updated.kind == UPDATED and updated.incident.detail == "shop/web:2: ImagePullBackOff message"


def test_unschedulable_carries_the_schedulers_message_from_its_event():
    book = IncidentBook()
    book.pod("ADDED", pod(waiting=""))
    event = {
        "kind": "Event",
        "metadata": {"name": "web-7d9f8b6c5d-x2k4p.17a", "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "name": "web-7d9f8b6c5d-x2k4p", "namespace": "shop"},
        "reason": "FailedScheduling",
        "type": "Warning",
        "message": "0/3 nodes are available: 3 Insufficient memory.",
    }
    (change,) = book.event(event)
    assert (change.incident.app, change.incident.event) == ("web", "unschedulable")
    assert change.incident.detail == "0/3 nodes are available: 3 Insufficient memory."


def test_an_evicted_pod_and_a_failed_job():
    evicted = pod(
        phase="Failed", extra_status={"reason": "Evicted", "message": "The node was low on resource: memory."}
    )
    (found,) = pod_findings(evicted)
    assert (found.event, found.detail) == ("evicted", "The node was low on resource: memory.")
    job = {
        "kind": "Job",
        "metadata": {"name": "nightly", "namespace": "shop"},
        "status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                   "message": "Job has reached the specified backoff limit"}]},
    }  # fmt: skip
    book = IncidentBook()
    (change,) = book.job("ADDED", job)
    assert (change.incident.app, change.incident.event, change.incident.reason) == (
        "nightly",
        "job-failed",
        "BackoffLimitExceeded",
    )
    assert book.job("MODIFIED", job) == []  # the same failure is not news
    assert [c.kind for c in book.job("DELETED", job)] == [RESOLVED]


def test_pods_of_one_app_are_one_incident_and_it_resolves_when_they_are_gone():
    book = IncidentBook()
    a, b = "web-7d9f8b6c5d-aaaaa", "web-7d9f8b6c5d-bbbbb"
    assert [c.kind for c in book.pod("ADDED", pod(a, waiting="CrashLoopBackOff", restarts=1))] == [OPENED]
    (more,) = book.pod("ADDED", pod(b, waiting="CrashLoopBackOff", restarts=2))
    assert more.kind == UPDATED and more.incident.pods == {a, b} and more.incident.restarts == 3
    assert book.pod("MODIFIED", pod(b, waiting="CrashLoopBackOff", restarts=2)) == []  # nothing new
    assert book.pod("DELETED", pod(a)) == []
    (gone,) = book.pod("DELETED", pod(b))
    assert gone.kind == RESOLVED and gone.incident.resolved


def test_a_ready_pod_resolves_and_a_complete_rollout_resolves_the_app():
    book = IncidentBook()
    book.pod("ADDED", pod(waiting="CrashLoopBackOff", restarts=3))
    assert [c.kind for c in book.pod("MODIFIED", pod(ready=True, restarts=3))] == [RESOLVED]
    book.pod("MODIFIED", pod(waiting="CrashLoopBackOff", restarts=4))
    assert book.deployment("MODIFIED", deployment(complete=False)) == []
    assert [c.kind for c in book.deployment("MODIFIED", deployment(complete=True))] == [RESOLVED]
    assert book.incidents == []


def test_a_stalled_rollout_explained_by_a_crash_loop_is_a_note_not_a_second_alert():
    book = IncidentBook()
    book.pod("ADDED", pod(waiting="CrashLoopBackOff", restarts=3))
    (noted,) = book.deployment("MODIFIED", deployment(complete=False, deadline=True))
    assert noted.kind == UPDATED and noted.incident.reason == "CrashLoopBackOff"
    assert noted.incident.note == "ProgressDeadlineExceeded" and len(book.incidents) == 1


def test_a_stalled_rollout_on_its_own_is_rollout_failed():
    book = IncidentBook()
    (change,) = book.deployment("MODIFIED", deployment(complete=False, deadline=True))
    assert (change.kind, change.incident.event) == (OPENED, "rollout-failed")
    assert "timed out progressing" in change.incident.detail
    assert [c.kind for c in book.deployment("MODIFIED", deployment(complete=True))] == [RESOLVED]


def test_a_relist_without_a_pod_means_it_is_gone():
    book = IncidentBook()
    book.pod("ADDED", pod(waiting="CrashLoopBackOff", restarts=1))
    assert [c.kind for c in book.pods_listed([])] == [RESOLVED]


def test_the_app_of_a_pod():
    assert app_of(pod()) == ("web", "Deployment")
    assert app_of(pod("nightly-x7k2p", owner=("Job", "nightly"))) == ("nightly", "Job")
    assert app_of(pod("debug", owner=None)) == ("debug", "Pod")


def test_a_crash_loop_found_after_the_stalled_rollout_takes_over_its_alert():
    book = IncidentBook()
    (stalled,) = book.deployment("MODIFIED", deployment(complete=False, deadline=True))
    (opened,) = book.pod("MODIFIED", pod(waiting="CrashLoopBackOff", restarts=1))
    assert opened.kind == OPENED and opened.replaces == stalled.incident
    assert opened.incident.note == "ProgressDeadlineExceeded"
    assert [i.reason for i in book.incidents] == ["CrashLoopBackOff"]

"""The ReplicaSet controller: keep spec.replicas pods with the template, owned by the ReplicaSet.

After kubernetes/pkg/controller/replicaset: pods are created through the API, so admission may
refuse them; a refusal is a `FailedCreate` Warning event (`Error creating: <the API's message>`,
controller_utils.go) and a `ReplicaFailure` condition with reason `FailedCreate` and that message
(replica_set_utils.go calculateStatus: set when absent, removed after a sync without error), and
the ReplicaSet is retried with the work queue's back-off.
"""

from __future__ import annotations

from ..statuses import ApiError
from ..store import clone
from .base import POD, RS, Backoff, Controller, condition, controlled_by, set_condition

__all__ = ["ReplicaSetController", "pod_ready"]


def pod_ready(pod: dict) -> bool:
    ready = condition(pod, "Ready")
    return bool(ready and ready["status"] == "True")


class ReplicaSetController(Controller):
    def __init__(self, fake):
        super().__init__(fake)
        self.backoff = Backoff()

    def tick(self) -> None:
        for rs in self.live(RS):
            self.sync(rs)

    def sync(self, rs: dict) -> None:
        pods = [p for p in self.store.list(POD, rs["metadata"]["namespace"]) if controlled_by(p, rs)]
        active = [
            p
            for p in pods
            if not p["metadata"].get("deletionTimestamp")
            and p["status"].get("phase") not in ("Succeeded", "Failed")
        ]
        diff = rs["spec"].get("replicas", 1) - len(active)
        failure: str | None = None
        if diff > 0:
            failure = self._create(rs, diff, active)
        elif diff < 0:
            self._delete(rs, active, -diff)
        self._write_status(rs, active, failure)

    def _create(self, rs: dict, count: int, active: list[dict]) -> str | None:
        """Create up to `count` pods; the first refusal stops the batch. Returns the refusal, or
        `""` when the back-off skipped this sync (the condition stays as it is)."""
        uid = rs["metadata"]["uid"]
        if not self.backoff.ready(self.fake, uid):
            return ""
        for _ in range(count):
            try:
                pod = self.create_pod(RS, rs, rs["spec"]["template"])
            except ApiError as err:
                message = err.status["message"]
                self.event(
                    RS, rs, "Warning", "FailedCreate", f"Error creating: {message}", "replicaset-controller"
                )
                self.backoff.failed(self.fake, uid)
                return message
            self.event(
                RS,
                rs,
                "Normal",
                "SuccessfulCreate",
                f"Created pod: {pod['metadata']['name']}",
                "replicaset-controller",
            )
            active.append(pod)
        self.backoff.forget(uid)
        return None

    def _delete(self, rs: dict, active: list[dict], count: int) -> None:
        # Not-ready and unscheduled pods go first, as the real controller ranks them.
        victims = sorted(active, key=lambda p: (pod_ready(p), bool(p["spec"].get("nodeName"))))[:count]
        for pod in victims:
            self.api.mark_deleted(POD, pod, "Background")
            self.event(
                RS,
                rs,
                "Normal",
                "SuccessfulDelete",
                f"Deleted pod: {pod['metadata']['name']}",
                "replicaset-controller",
            )
            active.remove(pod)

    def _write_status(self, rs: dict, active: list[dict], failure: str | None) -> None:
        ready = sum(pod_ready(p) for p in active)
        status = {
            "replicas": len(active),
            "fullyLabeledReplicas": len(active),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": rs["metadata"]["generation"],
        }
        status = {k: v for k, v in status.items() if v or k in ("replicas", "observedGeneration")}
        conditions = (rs.get("status") or {}).get("conditions") or []
        has_failure = any(c["type"] == "ReplicaFailure" for c in conditions)
        if failure and not has_failure:
            conditions = set_condition(conditions, "ReplicaFailure", "True", "FailedCreate", failure)
        elif failure is None and has_failure:
            conditions = [c for c in conditions if c["type"] != "ReplicaFailure"]
        if conditions:
            status["conditions"] = conditions
        new = clone(rs)
        new["status"] = status
        self.save(RS, new, rs)

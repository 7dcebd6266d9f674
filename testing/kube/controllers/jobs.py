"""The Job controller: run pods until `completions` succeed, `backoffLimit` failures, or the deadline.

After kubernetes/pkg/controller/job/job_controller.go: startTime is set at the first sync (whether
or not a pod could be created); past `activeDeadlineSeconds` the active pods are deleted and the Job
fails with reason `DeadlineExceeded`, "Job was active longer than specified deadline"; a pod the API
refuses is a `FailedCreate` Warning event (`Error creating: ...`), retried with back-off.
"""

from __future__ import annotations

from ..statuses import ApiError
from ..store import clone, now_rfc3339
from .base import JOB, POD, Backoff, Controller, condition, controlled_by, set_condition

COMPLETED = ("CompletionsReached", "Reached expected number of succeeded pods")
BACKOFF_LIMIT = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE = ("DeadlineExceeded", "Job was active longer than specified deadline")


def finished(job: dict) -> bool:
    return any((condition(job, t) or {}).get("status") == "True" for t in ("Complete", "Failed"))


class JobController(Controller):
    def __init__(self, fake):
        super().__init__(fake)
        self.backoff = Backoff()
        self.started: dict[str, float] = {}  # uid -> monotonic time of the first sync (fake clock)

    def tick(self) -> None:
        for job in self.live(JOB):
            if not finished(job):
                self.sync(job)

    def sync(self, job: dict) -> None:
        spec, uid = job["spec"], job["metadata"]["uid"]
        pods = [p for p in self.store.list(POD, job["metadata"]["namespace"]) if controlled_by(p, job)]
        phases = [p["status"].get("phase") for p in pods]
        succeeded, failed = phases.count("Succeeded"), phases.count("Failed")
        active = [
            p
            for p in pods
            if p["status"].get("phase") not in ("Succeeded", "Failed")
            and not p["metadata"].get("deletionTimestamp")
        ]
        status = clone(job.get("status") or {})
        status.setdefault("startTime", now_rfc3339())
        self.started.setdefault(uid, self.fake.clock.mono())
        conditions = status.get("conditions") or []
        deadline = spec.get("activeDeadlineSeconds")
        if succeeded >= spec.get("completions", 1):
            conditions = self._finish(job, conditions, "Complete", COMPLETED, status)
        elif failed > spec.get("backoffLimit", 6):
            failed += self._stop(active)
            active = []
            conditions = self._finish(job, conditions, "Failed", BACKOFF_LIMIT, status)
        elif deadline is not None and self.fake.clock.elapsed(self.started[uid]) >= deadline:
            failed += self._stop(active)
            active = []
            conditions = self._finish(job, conditions, "Failed", DEADLINE, status)
        elif not active:
            active = self._start(job)
        self._write(job, status, conditions, active, succeeded, failed)

    def _start(self, job: dict) -> list[dict]:
        uid = job["metadata"]["uid"]
        if not self.backoff.ready(self.fake, uid):
            return []
        try:
            pod = self.create_pod(JOB, job, job["spec"]["template"])
        except ApiError as err:
            message = err.status["message"]
            self.event(JOB, job, "Warning", "FailedCreate", f"Error creating: {message}", "job-controller")
            self.backoff.failed(self.fake, uid)
            return []
        self.backoff.forget(uid)
        self.event(
            JOB,
            job,
            "Normal",
            "SuccessfulCreate",
            f"Created pod: {pod['metadata']['name']}",
            "job-controller",
        )
        return [pod]

    def _stop(self, active: list[dict]) -> int:
        """Delete the active pods; each counts as failed (the Job tracks them with a finalizer)."""
        for pod in active:
            self.api.mark_deleted(POD, pod, "Background")
        return len(active)

    def _finish(
        self, job: dict, conditions: list[dict], outcome: str, why: tuple[str, str], status: dict
    ) -> list:
        reason, message = why
        types = ("SuccessCriteriaMet", "Complete") if outcome == "Complete" else ("FailureTarget", "Failed")
        for type_ in types:
            conditions = set_condition(conditions, type_, "True", reason, message)
        if outcome == "Complete":
            status["completionTime"] = now_rfc3339()
            self.event(JOB, job, "Normal", "Completed", "Job completed", "job-controller")
        else:
            self.event(JOB, job, "Warning", reason, message, "job-controller")
        return conditions

    def _write(
        self, job: dict, status: dict, conditions: list, active: list, succeeded: int, failed: int
    ) -> None:
        status.update(
            active=len(active),
            succeeded=succeeded,
            failed=failed,
            ready=sum((condition(p, "Ready") or {}).get("status") == "True" for p in active),
            terminating=0,
        )
        status = {k: v for k, v in status.items() if v not in (0, None) or k in ("ready", "terminating")}
        if conditions:
            status["conditions"] = conditions
        new = clone(job)
        new["status"] = status
        self.save(JOB, new, job)

"""The Job controller: run pods until `completions` succeed or `backoffLimit` failures, then say so."""

from __future__ import annotations

from ..apiserver import ApiServer
from ..store import clone, now_rfc3339
from .base import JOB, POD, Controller, condition, controlled_by, set_condition
from .replicaset import new_pod


def finished(job: dict) -> bool:
    return any((condition(job, t) or {}).get("status") == "True" for t in ("Complete", "Failed"))


class JobController(Controller):
    def tick(self) -> None:
        for job in self.live(JOB):
            if not finished(job):
                self.sync(job)

    def sync(self, job: dict) -> None:
        spec = job["spec"]
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
        conditions = status.get("conditions") or []
        if succeeded >= spec.get("completions", 1):
            conditions = set_condition(
                conditions,
                "SuccessCriteriaMet",
                "True",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
            )
            conditions = set_condition(
                conditions,
                "Complete",
                "True",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
            )
            status["completionTime"] = now_rfc3339()
            self.event(JOB, job, "Normal", "Completed", "Job completed", "job-controller")
        elif failed > spec.get("backoffLimit", 6):
            for pod in active:
                ApiServer(self.store).mark_deleted(POD, pod, "Background")
            active = []
            for type_ in ("FailureTarget", "Failed"):
                conditions = set_condition(
                    conditions,
                    type_,
                    "True",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                )
            self.event(
                JOB,
                job,
                "Warning",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                "job-controller",
            )
        elif not active:
            pod = self.store.create(POD, new_pod(JOB, job, spec["template"]))
            active = [pod]
            self.event(
                JOB,
                job,
                "Normal",
                "SuccessfulCreate",
                f"Created pod: {pod['metadata']['name']}",
                "job-controller",
            )
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

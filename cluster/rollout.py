"""Following a rollout: snapshots of desired/updated/ready/available until complete, failed or timed out.

The completion rule is `kubectl rollout status`'s: the controller has observed the latest generation,
all replicas are updated, no old replicas remain and all updated replicas are available. A failure
names the pod and its reason: ImagePullBackOff and CrashLoopBackOff end the wait at once; a pod the
API server refuses (a missing ServiceAccount or RuntimeClass, Pod Security, a quota) never exists, so
the ReplicaSet's `ReplicaFailure` condition, which the Deployment copies, ends the wait at once with
the admission message (reason FailedCreate); a rollout that exceeds spec.progressDeadlineSeconds ends
as ProgressDeadlineExceeded, or as Pending with the scheduler's message when the pod could not be
placed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .errors import api_errors
from .kube import Kube, connect
from .names import app_name
from .objects import annotations_of, changes, labels_of, meta, name_of
from .target import ClusterTarget

if TYPE_CHECKING:  # the Kubernetes client is imported at the first cluster call, not at start
    from kubernetes.client import V1Deployment, V1DeploymentCondition, V1DeploymentStatus, V1Pod

RUNNING, COMPLETE, FAILED, TIMEOUT = "running", "complete", "failed", "timeout"
UNOBSERVED = "waiting for the deployment spec update to be observed"  # kubectl rollout status's words
REVISION = "deployment.kubernetes.io/revision"
FAIL_FAST = {"ImagePullBackOff", "CrashLoopBackOff", "InvalidImageName", "CreateContainerConfigError"}
_RANK = [
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CrashLoopBackOff",
    "Pending",
    "NotReady",
]


@dataclass(frozen=True)
class PodProblem:
    """The pod that explains a stuck or failed rollout, and why."""

    pod: str
    reason: str
    message: str = ""
    restarts: int = 0

    @property
    def line(self) -> str:
        extra = f" ({self.restarts} restarts)" if self.restarts else ""
        return f"pod {self.pod}: {self.reason}{extra}" + (f" — {self.message}" if self.message else "")


@dataclass(frozen=True)
class RolloutProgress:
    """One snapshot of a rollout; the last one a watcher yields has a final state."""

    app: str
    revision: str
    desired: int
    updated: int
    ready: int
    available: int
    state: str = RUNNING
    reason: str = ""
    message: str = ""
    problem: PodProblem | None = None
    elapsed: float = 0.0

    @property
    def done(self) -> bool:
        return self.state != RUNNING

    @property
    def line(self) -> str:
        counts = f"{self.updated}/{self.desired} updated, {self.ready} ready, {self.available} available"
        head = f"{self.app} rev {self.revision or '?'}: {counts}"
        if self.state == COMPLETE:
            return f"{head} — rollout complete"
        tail = f" — {self.state}" + (f": {self.reason}" if self.reason else "")
        if self.state != RUNNING and self.message and not self.problem:
            tail += f" ({self.message})"
        return (
            head
            + (tail if self.state != RUNNING else "")
            + (f"; {self.problem.line}" if self.problem else "")
        )

    def key(self) -> tuple[object, ...]:
        """What makes two snapshots different for a reader (elapsed time does not)."""
        return (
            self.revision,
            self.desired,
            self.updated,
            self.ready,
            self.available,
            self.state,
            self.reason,
            self.problem,
        )


def pod_problem(pod: V1Pod) -> PodProblem | None:
    """What is wrong with one pod, if anything."""
    name = name_of(pod)
    for cs in (pod.status.container_statuses or []) if pod.status else []:
        waiting = cs.state.waiting if cs.state else None
        if waiting and waiting.reason and waiting.reason not in ("ContainerCreating", "PodInitializing"):
            return PodProblem(name, waiting.reason, waiting.message or "", cs.restart_count or 0)
    phase = pod.status.phase if pod.status else "Pending"
    scheduled = (
        next((c for c in (pod.status.conditions or []) if c.type == "PodScheduled"), None)
        if pod.status
        else None
    )
    if phase == "Pending" and scheduled and scheduled.status == "False":
        return PodProblem(name, "Pending", scheduled.message or scheduled.reason or "unschedulable")
    ready = (
        next((c for c in (pod.status.conditions or []) if c.type == "Ready"), None) if pod.status else None
    )
    if phase == "Running" and not (ready and ready.status == "True"):
        return PodProblem(name, "NotReady", "running but not Ready (readiness probe failing?)")
    return None


def worst(problems: list[PodProblem]) -> PodProblem | None:
    ranked = sorted(problems, key=lambda p: _RANK.index(p.reason) if p.reason in _RANK else len(_RANK))
    return ranked[0] if ranked else None


class RolloutWatcher:
    """Iterate to follow one Deployment's rollout: `for progress in RolloutWatcher(target, "web"): ...`."""

    def __init__(
        self,
        target: ClusterTarget,
        app: str,
        timeout: float = 300.0,
        fail_fast: bool = True,
        poll_seconds: int = 1,
    ) -> None:
        self.target, self.app = target, app_name(app)
        self.timeout, self.fail_fast, self.poll_seconds = timeout, fail_fast, poll_seconds

    def __iter__(self) -> Iterator[RolloutProgress]:
        started = time.monotonic()
        last: tuple[object, ...] | None = None
        with connect(self.target) as kube:
            while True:
                for deployment in self._changes(kube):
                    progress = self._progress(kube, deployment, time.monotonic() - started)
                    if progress.key() != last:
                        last = progress.key()
                        yield progress
                    if progress.done:
                        return
                if time.monotonic() - started >= self.timeout:
                    yield self._timed_out(kube, time.monotonic() - started)
                    return

    def _changes(self, kube: Kube) -> Iterator[V1Deployment]:
        """The Deployment now, then each change, for up to poll_seconds (pods are re-read each time)."""
        with api_errors(f"follow rollout of {self.app}"):
            current = kube.apps.read_namespaced_deployment(self.app, kube.namespace)
        yield current
        with api_errors(f"follow rollout of {self.app}"):
            stream = changes(
                kube.apps.list_namespaced_deployment,
                kube.namespace,
                field_selector=f"metadata.name={self.app}",
                resource_version=meta(current).resource_version,
                timeout_seconds=self.poll_seconds,
            )
            for kind, deployment in stream:
                if kind in ("ADDED", "MODIFIED"):
                    yield deployment

    def _progress(self, kube: Kube, dep: V1Deployment, elapsed: float) -> RolloutProgress:
        from kubernetes.client import V1DeploymentStatus

        # A Deployment the controller has not yet seen has no status at all.
        spec, status = dep.spec, dep.status or V1DeploymentStatus()
        desired = spec.replicas if spec.replicas is not None else 1
        base = RolloutProgress(
            self.app,
            annotations_of(dep).get(REVISION, ""),
            desired,
            status.updated_replicas or 0,
            status.ready_replicas or 0,
            status.available_replicas or 0,
            elapsed=elapsed,
        )
        observed = (status.observed_generation or 0) >= (meta(dep).generation or 0)
        complete = (
            observed
            and base.updated >= desired
            and (status.replicas or 0) <= base.updated
            and base.available >= base.updated
        )
        if complete:
            return replace(base, state=COMPLETE)
        if not observed:  # the pods still show the spec before this one (a rollback off a crash-loop)
            return replace(base, message=UNOBSERVED)
        if (ended := self._failed(kube, dep, status, base)) is not None:
            return ended
        problem = self._problem(kube, dep)
        if self.fail_fast and problem and problem.reason in FAIL_FAST:
            return replace(base, state=FAILED, reason=problem.reason, problem=problem)
        return replace(base, problem=problem, message=_waiting_message(base, status.replicas or 0))

    def _failed(
        self, kube: Kube, dep: V1Deployment, status: V1DeploymentStatus, base: RolloutProgress
    ) -> RolloutProgress | None:
        """A refused pod (ReplicaFailure: no pod exists to explain it, the admission message does),
        or a rollout past its progress deadline; None while neither is the case."""
        progressing = _condition(status, "Progressing")
        refused = _condition(status, "ReplicaFailure")
        if refused and refused.status == "True" and self.fail_fast:
            return replace(
                base, state=FAILED, reason=refused.reason or "ReplicaFailure", message=refused.message or ""
            )
        if not (progressing and progressing.reason == "ProgressDeadlineExceeded"):
            return None
        problem = self._problem(kube, dep)
        reason, message = "ProgressDeadlineExceeded", progressing.message or ""
        if refused and refused.status == "True":
            reason, message = refused.reason or "ReplicaFailure", refused.message or message
        elif problem is not None and (problem.reason in FAIL_FAST or problem.reason == "Pending"):
            reason = problem.reason  # a pod that says why explains more than the deadline does
        return replace(base, state=FAILED, reason=reason, message=message, problem=problem)

    def _problem(self, kube: Kube, dep: V1Deployment) -> PodProblem | None:
        """The worst problem among the newest ReplicaSet's pods."""
        labels = ",".join(f"{k}={v}" for k, v in (dep.spec.selector.match_labels or {}).items())
        revision = annotations_of(dep).get(REVISION)
        with api_errors(f"read pods of {self.app}"):
            sets = kube.apps.list_namespaced_replica_set(kube.namespace, label_selector=labels).items
            newest = next((rs for rs in sets if annotations_of(rs).get(REVISION) == revision), None)
            if newest is None:
                return None
            pth = labels_of(newest).get("pod-template-hash")
            selector = labels + (f",pod-template-hash={pth}" if pth else "")
            pods = kube.core.list_namespaced_pod(kube.namespace, label_selector=selector).items
        return worst([p for p in map(pod_problem, pods) if p])

    def _timed_out(self, kube: Kube, elapsed: float) -> RolloutProgress:
        with api_errors(f"follow rollout of {self.app}"):
            dep = kube.apps.read_namespaced_deployment(self.app, kube.namespace)
        progress = self._progress(kube, dep, elapsed)
        if progress.done:
            return progress
        return replace(progress, state=TIMEOUT, reason=f"no result after {int(self.timeout)}s")


def _condition(status: V1DeploymentStatus, type_: str) -> V1DeploymentCondition | None:
    return next((c for c in status.conditions or [] if c.type == type_), None)


def _waiting_message(p: RolloutProgress, replicas: int) -> str:
    if p.updated < p.desired:
        return f"{p.updated} out of {p.desired} new replicas have been updated"
    if replicas > p.updated:
        return f"{replicas - p.updated} old replicas are pending termination"
    return f"{p.available} of {p.updated} updated replicas are available"

"""Cluster trouble as incidents: what is wrong with which app, from Pods, Events, Deployments and Jobs.

Plain functions classify one object (its JSON, as the API server sends it); an `IncidentBook` folds a
stream of them into incidents, one per app and reason, and says what changed: opened, updated (more
restarts, more pods, a better message) or resolved (the app is healthy again). No I/O here: a
watcher (cluster.watch) feeds the book, and whoever holds it decides whom to tell.

Reasons, and the `--events` name each falls under:

    CrashLoopBackOff          crashloop        container restarting; last termination reason and exit code
    OOMKilled                 oomkilled        container killed for memory (takes precedence over the loop)
    ImagePullBackOff          imagepull        ErrImagePull and ImagePullBackOff are one incident
    FailedScheduling          unschedulable    the scheduler's message
    ProgressDeadlineExceeded  rollout-failed   only when no pod-level incident of the app explains it
    Evicted                   evicted          the kubelet's message
    BackoffLimitExceeded      job-failed       (or the Job's own Failed reason)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

Obj = dict[str, Any]

CRASHLOOP, OOMKILLED, IMAGEPULL = "crashloop", "oomkilled", "imagepull"
UNSCHEDULABLE, ROLLOUT_FAILED, EVICTED, JOB_FAILED = (
    "unschedulable",
    "rollout-failed",
    "evicted",
    "job-failed",
)
EVENT_KINDS = (CRASHLOOP, OOMKILLED, IMAGEPULL, UNSCHEDULABLE, ROLLOUT_FAILED, EVICTED, JOB_FAILED)
POD_LEVEL = frozenset({CRASHLOOP, OOMKILLED, IMAGEPULL, UNSCHEDULABLE, EVICTED})
OPENED, UPDATED, RESOLVED = "opened", "updated", "resolved"
HASH_LABEL = "pod-template-hash"
NAME_LABEL = "app.kubernetes.io/name"


@dataclass(frozen=True)
class Finding:
    """One object's trouble: which app, which reason, and what the object says about it."""

    namespace: str
    app: str
    event: str  # one of EVENT_KINDS
    reason: str
    source: str  # the object that showed it, e.g. "web-5d8f7-abcde"
    detail: str = ""
    restarts: int = 0
    owner: str = "Pod"  # what the app is: Deployment, Job or a bare Pod

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.namespace, self.app, self.reason)


@dataclass(frozen=True)
class Incident:
    """One app's trouble for one reason, across its pods."""

    namespace: str
    app: str
    event: str
    reason: str
    owner: str
    detail: str = ""
    restarts: int = 0
    pods: frozenset[str] = frozenset()
    note: str = ""  # what else the app shows (a rollout stalled because of it)
    resolved: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.namespace, self.app, self.reason)

    @property
    def name(self) -> str:
        """`default/web/CrashLoopBackOff`: stable across replicas and restarts."""
        return "/".join(self.key)


@dataclass(frozen=True)
class Change:
    kind: str  # OPENED, UPDATED or RESOLVED
    incident: Incident
    # An opened pod-level incident that explains the app's stalled rollout takes over its alert.
    replaces: Incident | None = None


def _meta(obj: Obj) -> Obj:
    meta: Obj = obj.get("metadata") or {}
    return meta


def app_of(obj: Obj) -> tuple[str, str]:
    """(app, owner kind) of a Pod: the Deployment through its ReplicaSet, the Job, or the pod itself."""
    meta = _meta(obj)
    labels = meta.get("labels") or {}
    for ref in meta.get("ownerReferences") or []:
        if ref.get("kind") == "ReplicaSet":
            name, hash_ = str(ref.get("name", "")), labels.get(HASH_LABEL, "")
            if hash_ and name.endswith(f"-{hash_}"):
                return name[: -len(hash_) - 1], "Deployment"
            return labels.get(NAME_LABEL) or name.rsplit("-", 1)[0], "Deployment"
        if ref.get("kind") == "Job":
            return str(ref.get("name", "")), "Job"
    return str(meta.get("name", "")), "Pod"


def _containers(pod: Obj) -> list[Obj]:
    status = pod.get("status") or {}
    return list(status.get("initContainerStatuses") or []) + list(status.get("containerStatuses") or [])


def _termination(state: Obj) -> str:
    term = (state or {}).get("terminated") or {}
    if not term:
        return ""
    return f"last exit: {term.get('reason') or 'Terminated'} (exit code {term.get('exitCode', '?')})"


def pod_findings(pod: Obj) -> list[Finding]:
    """What is wrong with one pod, at most one finding per reason."""
    meta, status = _meta(pod), pod.get("status") or {}
    app, owner = app_of(pod)
    namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))

    def found(event: str, reason: str, detail: str = "", restarts: int = 0) -> Finding:
        return Finding(namespace, app, event, reason, name, detail, restarts, owner)

    if status.get("phase") == "Failed" and status.get("reason") == "Evicted":
        return [found(EVICTED, "Evicted", str(status.get("message", "")))]
    findings: dict[str, Finding] = {}
    for cs in _containers(pod):
        state, last = cs.get("state") or {}, cs.get("lastState") or {}
        waiting = state.get("waiting") or {}
        restarts = int(cs.get("restartCount") or 0)
        oom = next(
            (s for s in (state, last) if (s.get("terminated") or {}).get("reason") == "OOMKilled"), None
        )
        if oom is not None and not cs.get("ready"):
            findings.setdefault("OOMKilled", found(OOMKILLED, "OOMKilled", _termination(oom), restarts))
        elif waiting.get("reason") == "CrashLoopBackOff":
            findings.setdefault(
                "CrashLoopBackOff", found(CRASHLOOP, "CrashLoopBackOff", _termination(last), restarts)
            )
        elif waiting.get("reason") in ("ImagePullBackOff", "ErrImagePull"):
            detail = f"{cs.get('image', '')}: {waiting.get('message') or waiting['reason']}"
            findings.setdefault("ImagePullBackOff", found(IMAGEPULL, "ImagePullBackOff", detail))
    scheduled: Obj = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), {})
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        findings["FailedScheduling"] = found(
            UNSCHEDULABLE, "FailedScheduling", str(scheduled.get("message", ""))
        )
    return list(findings.values())


def pod_ready(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def event_finding(event: Obj, pod_apps: dict[str, tuple[str, str]]) -> Finding | None:
    """A FailedScheduling, Evicted or BackoffLimitExceeded Event; `pod_apps` names each known pod's app."""
    involved = event.get("involvedObject") or event.get("regarding") or {}
    reason, kind = str(event.get("reason", "")), involved.get("kind")
    namespace = str(involved.get("namespace") or _meta(event).get("namespace", ""))
    name = str(involved.get("name", ""))
    message = str(event.get("message") or event.get("note") or "")
    if kind == "Pod" and reason in ("FailedScheduling", "Evicted"):
        app, owner = pod_apps.get(name, (name, "Pod"))
        event_kind = UNSCHEDULABLE if reason == "FailedScheduling" else EVICTED
        return Finding(namespace, app, event_kind, reason, name, message, 0, owner)
    if kind == "Job" and reason in ("BackoffLimitExceeded", "DeadlineExceeded"):
        return Finding(namespace, name, JOB_FAILED, reason, name, message, 0, "Job")
    return None


def _condition(obj: Obj, type_: str) -> Obj:
    found: Obj = next(
        (c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == type_), {}
    )
    return found


def deployment_finding(dep: Obj) -> Finding | None:
    progressing = _condition(dep, "Progressing")
    if progressing.get("status") == "False" and progressing.get("reason") == "ProgressDeadlineExceeded":
        meta = _meta(dep)
        name = str(meta.get("name", ""))
        detail = str(progressing.get("message", ""))
        return Finding(
            str(meta.get("namespace", "")),
            name,
            ROLLOUT_FAILED,
            "ProgressDeadlineExceeded",
            name,
            detail,
            0,
            "Deployment",
        )
    return None


def deployment_complete(dep: Obj) -> bool:
    """`kubectl rollout status`'s rule: the latest generation observed, every replica updated and
    available, no old replica left."""
    spec, status = dep.get("spec") or {}, dep.get("status") or {}
    want = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    observed = int(status.get("observedGeneration") or 0) >= int(_meta(dep).get("generation") or 0)
    counts = (status.get(k) or 0 for k in ("updatedReplicas", "replicas", "availableReplicas"))
    return observed and all(int(n) == want for n in counts)


def job_finding(job: Obj) -> Finding | None:
    failed = _condition(job, "Failed")
    if failed.get("status") != "True":
        return None
    meta = _meta(job)
    name = str(meta.get("name", ""))
    reason = str(failed.get("reason") or "BackoffLimitExceeded")
    return Finding(
        str(meta.get("namespace", "")),
        name,
        JOB_FAILED,
        reason,
        name,
        str(failed.get("message", "")),
        0,
        "Job",
    )


@dataclass
class _Open:
    incident: Incident
    pods: dict[str, int] = field(default_factory=dict)  # pod -> restarts


class IncidentBook:
    """Open incidents of one namespace, fed objects as a watch sees them; each call says what changed."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str, str], _Open] = {}
        self.pod_apps: dict[str, tuple[str, str]] = {}
        self._pods_seen: set[str] = set()

    @property
    def incidents(self) -> list[Incident]:
        return [o.incident for o in self._open.values()]

    def pod(self, kind: str, pod: Obj) -> list[Change]:
        """A Pod ADDED, MODIFIED or DELETED."""
        name = str(_meta(pod).get("name", ""))
        app, owner = self.pod_apps[name] = app_of(pod)
        if kind == "DELETED":
            self.pod_apps.pop(name, None)
            self._pods_seen.discard(name)
            return self._pod_gone(app, name)
        self._pods_seen.add(name)
        findings = pod_findings(pod)
        changes = [c for f in findings for c in self._found(f)]
        reasons = {f.reason for f in findings}
        if pod_ready(pod):  # a ready pod no longer shows what it showed
            changes += self._pod_gone(app, name, keep=reasons)
        return changes

    def pods_listed(self, pods: Iterable[Obj]) -> list[Change]:
        """A fresh list of every pod (after a relist): pods not in it are gone."""
        listed = {str(_meta(p).get("name", "")): p for p in pods}
        changes: list[Change] = []
        for name in list(self._pods_seen - set(listed)):
            app, _ = self.pod_apps.get(name, (name, "Pod"))
            changes += self._pod_gone(app, name)
            self._pods_seen.discard(name)
        for pod in listed.values():
            changes += self.pod("ADDED", pod)
        return changes

    def event(self, event: Obj) -> list[Change]:
        finding = event_finding(event, self.pod_apps)
        return self._found(finding) if finding else []

    def deployment(self, kind: str, dep: Obj) -> list[Change]:
        name = str(_meta(dep).get("name", ""))
        if kind == "DELETED" or deployment_complete(dep):
            return self._resolve_app(name, {"Deployment"})
        finding = deployment_finding(dep)
        if finding is not None:
            return self._found(finding)
        return self._resolve(self._open.get(finding_key(dep, "ProgressDeadlineExceeded")))

    def job(self, kind: str, job: Obj) -> list[Change]:
        name = str(_meta(job).get("name", ""))
        if kind == "DELETED":
            return self._resolve_app(name, {"Job"})
        finding = job_finding(job)
        return self._found(finding) if finding else []

    # -- folding

    def _found(self, f: Finding) -> list[Change]:
        if f.event == ROLLOUT_FAILED:
            explained = [
                o for o in self._open.values() if o.incident.app == f.app and o.incident.event in POD_LEVEL
            ]
            if explained:
                return [c for o in explained if (c := self._noted(o, f.reason))]
        entry, replaces = self._open.get(f.key), None
        if entry is None:
            entry = self._open[f.key] = _Open(Incident(f.namespace, f.app, f.event, f.reason, f.owner))
            kind = OPENED
            if f.event in POD_LEVEL:
                replaces = self._explained_rollout(entry, f.app)
        else:
            kind = UPDATED
        entry.pods[f.source] = max(entry.pods.get(f.source, 0), f.restarts)
        before = entry.incident
        entry.incident = replace(
            before,
            detail=f.detail or before.detail,
            restarts=sum(entry.pods.values()),
            pods=frozenset(entry.pods) if f.event in POD_LEVEL else frozenset(),
        )
        return [Change(kind, entry.incident, replaces)] if kind == OPENED or entry.incident != before else []

    def _explained_rollout(self, entry: _Open, app: str) -> Incident | None:
        """The app's open rollout-failed incident, now explained by `entry`: folded into it as a note."""
        stalled = next(
            (o for o in self._open.values() if o.incident.app == app and o.incident.event == ROLLOUT_FAILED),
            None,
        )
        if stalled is None:
            return None
        del self._open[stalled.incident.key]
        entry.incident = replace(entry.incident, note=stalled.incident.reason)
        return stalled.incident

    def _noted(self, entry: _Open, reason: str) -> Change | None:
        if entry.incident.note == reason:
            return None
        entry.incident = replace(entry.incident, note=reason)
        return Change(UPDATED, entry.incident)

    def _pod_gone(self, app: str, pod: str, keep: set[str] | frozenset[str] = frozenset()) -> list[Change]:
        changes = []
        for key, entry in list(self._open.items()):
            if entry.incident.app != app or pod not in entry.pods or entry.incident.reason in keep:
                continue
            if entry.incident.event == EVICTED and not keep and pod in self.pod_apps:
                continue  # an evicted pod that is still listed stays evicted
            del entry.pods[pod]
            if not entry.pods:
                changes += self._resolve(self._open.get(key))
        return changes

    def _resolve_app(self, app: str, owners: set[str]) -> list[Change]:
        found = [o for o in self._open.values() if o.incident.app == app and o.incident.owner in owners]
        return [c for o in found for c in self._resolve(o)]

    def _resolve(self, entry: _Open | None) -> list[Change]:
        if entry is None:
            return []
        del self._open[entry.incident.key]
        return [Change(RESOLVED, replace(entry.incident, resolved=True))]


def finding_key(obj: Obj, reason: str) -> tuple[str, str, str]:
    meta = _meta(obj)
    return (str(meta.get("namespace", "")), str(meta.get("name", "")), reason)

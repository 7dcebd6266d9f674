"""`status [app]`: replicas, revision, image, age, pod phases and restarts, recent warnings."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import api_errors
from .events import EventLine, recent_warnings
from .kube import Kube, connect
from .names import app_name
from .objects import annotations_of, labels_of, meta, name_of, template_image, template_of
from .rollout import REVISION, pod_problem
from .target import ClusterTarget
from .timefmt import age

if TYPE_CHECKING:  # the Kubernetes client is imported at the first cluster call, not at start
    from kubernetes.client import V1Deployment, V1Pod


@dataclass(frozen=True)
class PodSummary:
    name: str
    phase: str
    ready: bool
    restarts: int
    age: str
    reason: str = ""


@dataclass(frozen=True)
class AppStatus:
    """One Deployment as a person wants to see it."""

    name: str
    desired: int
    updated: int
    ready: int
    available: int
    revision: str
    image: str
    age: str
    condition: str
    pods: tuple[PodSummary, ...] = ()
    warnings: tuple[EventLine, ...] = ()

    @property
    def phases(self) -> str:
        """`2 Running, 1 Pending`."""
        counts = Counter(p.phase for p in self.pods)
        return ", ".join(f"{n} {phase}" for phase, n in sorted(counts.items())) or "no pods"

    @property
    def restarts(self) -> int:
        return sum(p.restarts for p in self.pods)

    @property
    def healthy(self) -> bool:
        return self.available >= self.desired and self.updated >= self.desired


@dataclass(frozen=True)
class NamespaceStatus:
    cluster: str
    namespace: str
    apps: tuple[AppStatus, ...] = ()
    warnings: tuple[EventLine, ...] = field(default=())


def _phase(p: V1Pod) -> str:
    """The phase, or `Terminating` for a pod being deleted (as kubectl shows it): it still runs,
    for up to its grace period, but it is on its way out and no longer counts as serving."""
    if meta(p).deletion_timestamp is not None:
        return "Terminating"
    return (p.status.phase if p.status else None) or "Unknown"


def _pod(p: V1Pod) -> PodSummary:
    statuses = (p.status.container_statuses or []) if p.status else []
    problem = pod_problem(p)
    return PodSummary(
        name_of(p),
        _phase(p),
        bool(statuses) and all(cs.ready for cs in statuses),
        sum(cs.restart_count or 0 for cs in statuses),
        age(meta(p).creation_timestamp),
        problem.reason if problem else "",
    )


def _summarize(kube: Kube, dep: V1Deployment, pods: list[V1Pod], with_events: bool) -> AppStatus:
    from kubernetes.client import V1DeploymentStatus

    # A Deployment the controller has not yet seen has no status at all.
    spec, status = dep.spec, dep.status or V1DeploymentStatus()
    progressing = next((c for c in status.conditions or [] if c.type == "Progressing"), None)
    summaries = tuple(_pod(p) for p in pods)
    names = {name_of(dep)} | {name_of(p) for p in pods}
    warnings = tuple(recent_warnings(kube, 5, names)) if with_events else ()
    return AppStatus(
        name_of(dep),
        spec.replicas if spec.replicas is not None else 1,
        status.updated_replicas or 0,
        status.ready_replicas or 0,
        status.available_replicas or 0,
        annotations_of(dep).get(REVISION, "?"),
        template_image(template_of(dep)),
        age(meta(dep).creation_timestamp),
        f"{progressing.reason}" if progressing else "",
        summaries,
        warnings,
    )


def _pods_of(pods: list[V1Pod], dep: V1Deployment) -> list[V1Pod]:
    wanted = dep.spec.selector.match_labels or {}
    return [p for p in pods if all(labels_of(p).get(k) == v for k, v in wanted.items())]


def app_status(target: ClusterTarget, app: str) -> AppStatus:
    """The full picture of one app, with its pods and recent Warning events."""
    app_name(app)
    with connect(target) as kube, api_errors(f"status of {app}"):
        dep = kube.apps.read_namespaced_deployment(app, kube.namespace)
        pods = kube.core.list_namespaced_pod(kube.namespace).items
        return _summarize(kube, dep, _pods_of(pods, dep), with_events=True)


def namespace_status(target: ClusterTarget) -> NamespaceStatus:
    """Every Deployment in the namespace, summarized, plus the namespace's latest warnings."""
    with connect(target) as kube, api_errors(f"status of namespace {target.namespace}"):
        deps = kube.apps.list_namespaced_deployment(kube.namespace).items
        pods = kube.core.list_namespaced_pod(kube.namespace).items
        apps = tuple(_summarize(kube, d, _pods_of(pods, d), with_events=False) for d in deps)
        return NamespaceStatus(target.name, target.namespace, apps, tuple(recent_warnings(kube, 5)))

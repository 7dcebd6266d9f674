"""`status [app]`: replicas, revision, image, age, pod phases and restarts, recent warnings.

What it says is true for a reader who acts on it: a crash-looping pod is crash-looping (with its last
exit), not "Running"; an app is healthy only when its rollout is complete (kubectl's rule: every pod
updated, no old pods left, the updated ones available) and no pod of it is failing; a rollout that
ran past its deadline or whose new pods fail is said so; a namespace that does not exist is missing,
not empty."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import ClusterError, NotFound, api_errors
from .events import EventLine, recent_warnings
from .kube import Kube, connect
from .names import app_name
from .objects import annotations_of, labels_of, meta, name_of, template_image, template_of
from .rollout import FAIL_FAST, REVISION, pod_problem
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
    last_exit: str = ""  # how the previous instance ended: "OOMKilled, exit code 137"

    @property
    def crash_looping(self) -> bool:
        return self.reason == "CrashLoopBackOff"

    @property
    def state(self) -> str:
        """What the pod is doing, as a person means it: `crash-looping`, `ImagePullBackOff`, or the phase."""
        if self.crash_looping:
            return "crash-looping"
        return self.reason if self.reason in FAIL_FAST or self.reason == "ErrImagePull" else self.phase


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
    total: int = 0  # pods of every revision the Deployment counts (status.replicas)
    condition_message: str = ""

    @property
    def phases(self) -> str:
        """`2 Running, 1 crash-looping`."""
        counts = Counter(p.state for p in self.pods)
        return ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no pods"

    @property
    def restarts(self) -> int:
        return sum(p.restarts for p in self.pods)

    @property
    def failing(self) -> PodSummary | None:
        """The first pod that is failing (crash-looping, image not pulled, ...), if any."""
        return next((p for p in self.pods if p.state != p.phase), None)

    @property
    def rollout_failed(self) -> bool:
        return self.condition == "ProgressDeadlineExceeded"

    @property
    def rolling(self) -> bool:
        """A rollout is under way: pods of an older revision are still there, or not all are updated."""
        return self.updated < self.desired or self.total > self.updated

    @property
    def healthy(self) -> bool:
        complete = not self.rolling and self.available >= self.desired
        return complete and not self.rollout_failed and self.failing is None


@dataclass(frozen=True)
class NamespaceStatus:
    cluster: str
    namespace: str
    apps: tuple[AppStatus, ...] = ()
    warnings: tuple[EventLine, ...] = field(default=())
    missing: bool = False  # the namespace itself does not exist


def _phase(p: V1Pod) -> str:
    """The phase, or `Terminating` for a pod being deleted (as kubectl shows it): it still runs,
    for up to its grace period, but it is on its way out and no longer counts as serving."""
    if meta(p).deletion_timestamp is not None:
        return "Terminating"
    return (p.status.phase if p.status else None) or "Unknown"


def _last_exit(p: V1Pod) -> str:
    """How a restarted container's previous instance ended (`lastState.terminated`)."""
    for cs in (p.status.container_statuses or []) if p.status else []:
        ended = cs.last_state.terminated if cs.last_state else None
        if ended is not None:
            return f"{ended.reason or 'exited'}, exit code {ended.exit_code}"
    return ""


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
        _last_exit(p),
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
        annotations_of(dep).get(REVISION, ""),  # none until the controller has seen the Deployment
        template_image(template_of(dep)),
        age(meta(dep).creation_timestamp),
        f"{progressing.reason}" if progressing else "",
        summaries,
        warnings,
        status.replicas or 0,
        (progressing.message or "") if progressing else "",
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
        if not deps and not _namespace_exists(kube):
            return NamespaceStatus(target.name, target.namespace, missing=True)
        pods = kube.core.list_namespaced_pod(kube.namespace).items
        apps = tuple(_summarize(kube, d, _pods_of(pods, d), with_events=False) for d in deps)
        return NamespaceStatus(target.name, target.namespace, apps, tuple(recent_warnings(kube, 5)))


def _namespace_exists(kube: Kube) -> bool:
    """Listing in a namespace that does not exist answers an empty list; reading it answers 404.
    Not allowed to read namespaces (a namespace-scoped role): taken as existing, as before."""
    try:
        with api_errors(f"read namespace {kube.namespace}"):
            kube.core.read_namespace(kube.namespace)
    except NotFound:
        return False
    except ClusterError:
        return True
    return True

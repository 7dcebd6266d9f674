"""`describe <app>`: the Deployment, its ReplicaSets, its pods with each container's state and last
termination, the Deployment's conditions and the app's recent events, as one frozen result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .apps import read_app
from .errors import api_errors
from .events import EventLine, namespace_events
from .kube import connect
from .objects import annotations_of, meta, name_of, template_image, template_of
from .rollout import REVISION
from .target import ClusterTarget
from .timefmt import age

if TYPE_CHECKING:  # the Kubernetes client is imported at the first cluster call, not at start
    from kubernetes.client import V1ContainerStatus, V1Deployment, V1Pod, V1ReplicaSet

DESCRIBE_EVENTS = 10


@dataclass(frozen=True)
class ContainerState:
    """One container of a pod: now, and how its previous instance ended."""

    name: str
    state: str  # running, waiting, terminated, or unknown before the kubelet reports
    ready: bool
    restarts: int
    reason: str = ""  # the waiting or terminated reason (CrashLoopBackOff, OOMKilled, Error…)
    exit_code: int | None = None
    last_reason: str = ""  # lastState.terminated: why the previous instance ended
    last_exit_code: int | None = None


@dataclass(frozen=True)
class PodState:
    name: str
    phase: str
    ready: str  # "1/2", as kubectl shows it
    restarts: int
    age: str
    node: str
    reason: str = ""  # the pod's own reason (Evicted) with its message
    message: str = ""
    containers: tuple[ContainerState, ...] = ()


@dataclass(frozen=True)
class ReplicaSetState:
    name: str
    revision: str
    desired: int
    ready: int
    image: str
    age: str


@dataclass(frozen=True)
class ConditionState:
    type: str
    status: str
    reason: str
    message: str


@dataclass(frozen=True)
class AppDescription:
    """Everything `describe` shows about one app."""

    name: str
    cluster: str
    namespace: str
    image: str
    revision: str
    age: str
    strategy: str
    desired: int
    updated: int
    ready: int
    available: int
    conditions: tuple[ConditionState, ...]
    replica_sets: tuple[ReplicaSetState, ...]
    pods: tuple[PodState, ...]
    events: tuple[EventLine, ...]


def _container(cs: V1ContainerStatus) -> ContainerState:
    state, last = cs.state, cs.last_state.terminated if cs.last_state else None
    now = "unknown"
    reason, code = "", None
    if state and state.running:
        now = "running"
    elif state and state.waiting:
        now, reason = "waiting", state.waiting.reason or ""
    elif state and state.terminated:
        now, reason, code = "terminated", state.terminated.reason or "", state.terminated.exit_code
    return ContainerState(
        cs.name,
        now,
        bool(cs.ready),
        cs.restart_count or 0,
        reason,
        code,
        (last.reason or "") if last else "",
        last.exit_code if last else None,
    )


def _pod(p: V1Pod) -> PodState:
    status = p.status
    statuses = (status.container_statuses or []) if status else []
    total = len(p.spec.containers) if p.spec else len(statuses)
    phase = "Terminating" if meta(p).deletion_timestamp else ((status.phase if status else None) or "Unknown")
    return PodState(
        name_of(p),
        phase,
        f"{sum(bool(cs.ready) for cs in statuses)}/{total}",
        sum(cs.restart_count or 0 for cs in statuses),
        age(meta(p).creation_timestamp),
        (p.spec.node_name if p.spec else None) or "",
        (status.reason if status else None) or "",
        " ".join(((status.message if status else None) or "").split()),
        tuple(_container(cs) for cs in statuses),
    )


def _replica_set(rs: V1ReplicaSet) -> ReplicaSetState:
    return ReplicaSetState(
        name_of(rs),
        annotations_of(rs).get(REVISION, "?"),
        (rs.spec.replicas if rs.spec and rs.spec.replicas is not None else 1),
        (rs.status.ready_replicas if rs.status else None) or 0,
        template_image(template_of(rs)),
        age(meta(rs).creation_timestamp),
    )


def _conditions(dep: V1Deployment) -> tuple[ConditionState, ...]:
    found = (dep.status.conditions if dep.status else None) or []
    return tuple(ConditionState(c.type or "", c.status or "", c.reason or "", c.message or "") for c in found)


def describe_app(target: ClusterTarget, app: str, events: int = DESCRIBE_EVENTS) -> AppDescription:
    """One app in one result: Deployment, ReplicaSets, pods, conditions and its newest events."""
    with connect(target) as kube, api_errors(f"describe {app}"):
        objects = read_app(kube, app)
        recent = namespace_events(kube, objects.names, events)
    dep = objects.deployment
    status = dep.status
    spec = dep.spec
    return AppDescription(
        name_of(dep),
        target.name,
        target.namespace,
        template_image(template_of(dep)),
        annotations_of(dep).get(REVISION, "?"),
        age(meta(dep).creation_timestamp),
        (spec.strategy.type if spec and spec.strategy else None) or "RollingUpdate",
        spec.replicas if spec and spec.replicas is not None else 1,
        (status.updated_replicas if status else None) or 0,
        (status.ready_replicas if status else None) or 0,
        (status.available_replicas if status else None) or 0,
        _conditions(dep),
        tuple(_replica_set(rs) for rs in objects.replica_sets),
        tuple(_pod(p) for p in objects.pods),
        tuple(recent),
    )

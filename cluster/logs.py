"""`logs <app>`: the last lines of the app's failing (or newest) pod's container, redacted.

The pod is the one whose trouble explains the app (the worst problem first, as a rollout report
names it), else the newest; the container is the one asked for, else the one restarting or waiting,
else the first. `previous` reads the instance before the current one, as `kubectl logs --previous`
does; for a container in CrashLoopBackOff the current instance is the one that just crashed.
Secrets in the text are redacted before anything leaves this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from redaction import scrub

from .apps import read_app
from .errors import ClusterError, InvalidInput, api_errors
from .kube import Kube, connect
from .names import DEFAULT_LINES, check_lines
from .objects import name_of, present
from .rollout import _RANK, pod_problem
from .target import ClusterTarget

if TYPE_CHECKING:  # the Kubernetes client is imported at the first cluster call, not at start
    from kubernetes.client import V1Pod

MAX_BYTES = 1024 * 1024  # the kubelet stops the stream here (limitBytes), whatever the line count


class NoPods(ClusterError):
    """The app has no pod to read from (scaled to 0, or none created yet)."""


class NotScheduled(ClusterError):
    """The chosen pod is on no node yet, so no container has run."""


class NoPreviousInstance(ClusterError):
    """`--previous` for a container that has not restarted."""


@dataclass(frozen=True)
class AppLogs:
    """The lines one container instance wrote, newest last, already redacted."""

    app: str
    pod: str
    container: str
    previous: bool
    lines: tuple[str, ...]
    asked: int  # how many lines were asked for
    why: str = ""  # why this pod: its problem (CrashLoopBackOff…), "" when none
    containers: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _rank(pod: V1Pod) -> tuple[int, int]:
    problem = pod_problem(pod)
    if problem is None:
        return (len(_RANK) + 1, 0)
    order = _RANK.index(problem.reason) if problem.reason in _RANK else len(_RANK)
    return (order, -problem.restarts)


def choose_pod(pods: tuple[V1Pod, ...]) -> V1Pod | None:
    """The pod with the worst problem; with none, the newest (pods come newest first)."""
    if not pods:
        return None
    return min(pods, key=_rank)  # min is stable: the newest wins a tie


def choose_container(pod: V1Pod, asked: str | None) -> str:
    """The container asked for, else the one in trouble (restarting, waiting), else the first."""
    spec = present(pod.spec, f"pod {name_of(pod)} spec")
    names = [c.name for c in spec.containers] + [c.name for c in spec.init_containers or []]
    if asked:
        if asked not in names:
            raise InvalidInput(f"pod {name_of(pod)} has no container {asked} (it has: {', '.join(names)}).")
        return asked
    statuses = (pod.status.container_statuses or []) if pod.status else []
    troubled = [cs.name for cs in statuses if cs.restart_count or (cs.state and cs.state.waiting)]
    return troubled[0] if troubled else names[0]


def _unscheduled(pod: V1Pod) -> str:
    """The scheduler's word on a pod that is on no node, or "" when it is on one."""
    if pod.spec is None or pod.spec.node_name:
        return ""
    conditions = (pod.status.conditions or []) if pod.status else []
    scheduled = next((c for c in conditions if c.type == "PodScheduled"), None)
    said = (scheduled.message or scheduled.reason) if scheduled else ""
    return said or "waiting for the scheduler"


def _read(kube: Kube, pod: str, container: str, lines: int, previous: bool) -> str:
    from kubernetes.client.exceptions import ApiException

    from .errors import api_message

    try:
        text: str = kube.core.read_namespaced_pod_log(
            pod,
            kube.namespace,
            container=container,
            previous=previous,
            tail_lines=lines,
            limit_bytes=MAX_BYTES,
        )
    except ApiException as exc:
        if exc.status != 400:
            raise
        said = api_message(exc)
        if previous and said.startswith("previous terminated container"):
            raise NoPreviousInstance(
                f"container `{container}` of pod `{pod}` has not restarted: there is no previous instance."
            ) from None
        raise ClusterError(said) from None  # "is waiting to start: trying and failing to pull image"
    return text


def app_logs(
    target: ClusterTarget,
    app: str,
    lines: int = DEFAULT_LINES,
    previous: bool = False,
    container: str | None = None,
) -> AppLogs:
    """The last `lines` lines of the app's failing (or newest) pod's container, redacted."""
    check_lines(lines)
    with connect(target) as kube, api_errors(f"logs of {app}"):
        objects = read_app(kube, app)
        pod = choose_pod(objects.pods)
        if pod is None:
            desired = objects.deployment.spec.replicas
            raise NoPods(f"`{app}` has no pods (it wants {desired}); `describe {app}` shows why.")
        chosen = choose_container(pod, container)
        waiting = _unscheduled(pod)
        if waiting:
            raise NotScheduled(f"pod {name_of(pod)} of `{app}` is not scheduled yet: {waiting}")
        text = _read(kube, name_of(pod), chosen, lines, previous)
    problem = pod_problem(pod)
    return AppLogs(
        app,
        name_of(pod),
        chosen,
        previous,
        tuple(scrub(text).splitlines()),
        lines,
        problem.reason if problem else "",
        tuple(c.name for c in present(pod.spec, f"pod {name_of(pod)} spec").containers),
    )

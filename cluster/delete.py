"""`delete <app>`: foreground cascading deletion, reporting as Pods, ReplicaSets and the Deployment go."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from .errors import Timeout, api_errors
from .kube import Kube, connect
from .names import app_name
from .objects import Described, meta, name_of, uid_of
from .target import ClusterTarget


@dataclass(frozen=True)
class DeletionStep:
    """One kind of object is gone (or, with `started`, deletion began)."""

    kind: str
    names: tuple[str, ...]
    state: str  # "started" | "gone"

    @property
    def line(self) -> str:
        if self.state == "started":
            return f"deleting {self.kind} {', '.join(self.names)} (foreground cascade)"
        count = len(self.names)
        return f"{self.kind}: {count} gone" + (f" ({', '.join(self.names)})" if self.names else "")


Owned = TypeVar("Owned", bound=Described)


def _owned(items: Sequence[Owned], owners: set[str]) -> list[Owned]:
    return [o for o in items if any(r.uid in owners for r in meta(o).owner_references or [])]


def _remaining(kube: Kube, app: str, dep_uid: str) -> dict[str, set[str]]:
    ns = kube.namespace
    deps = [
        d
        for d in kube.apps.list_namespaced_deployment(ns, field_selector=f"metadata.name={app}").items
        if meta(d).uid == dep_uid
    ]
    sets = _owned(kube.apps.list_namespaced_replica_set(ns).items, {dep_uid})
    pods = _owned(kube.core.list_namespaced_pod(ns).items, {uid_of(rs) for rs in sets})
    return {
        "Pods": {name_of(p) for p in pods},
        "ReplicaSets": {name_of(rs) for rs in sets},
        "Deployment": {name_of(d) for d in deps},
    }


def delete_app(
    target: ClusterTarget, app: str, timeout: float = 120.0, poll: float = 0.1
) -> Iterator[DeletionStep]:
    """Delete the Deployment with propagationPolicy=Foreground and yield a step as each kind disappears:
    Pods, then ReplicaSets, then the Deployment. Raises Timeout if they outlive `timeout`."""
    app_name(app)
    with connect(target) as kube:
        with api_errors(f"delete {app}"):
            dep = kube.apps.read_namespaced_deployment(app, kube.namespace)
            uid = uid_of(dep)
            seen = _remaining(kube, app, uid)
            kube.apps.delete_namespaced_deployment(app, kube.namespace, propagation_policy="Foreground")
        yield DeletionStep("Deployment", (app,), "started")
        yield from _follow(kube, app, uid, seen, timeout, poll)


def _follow(
    kube: Kube, app: str, uid: str, seen: dict[str, set[str]], timeout: float, poll: float
) -> Iterator[DeletionStep]:
    deadline = time.monotonic() + timeout
    pending = ["Pods", "ReplicaSets", "Deployment"]
    while pending:
        with api_errors(f"follow deletion of {app}"):
            left = _remaining(kube, app, uid)
        for kind in list(pending):
            seen[kind] |= left[kind]
            if left[kind]:
                break
            pending.remove(kind)
            yield DeletionStep(kind, tuple(sorted(seen[kind])), "gone")
        if pending and time.monotonic() > deadline:
            raise Timeout(f"delete {app}: still present after {int(timeout)}s: {', '.join(pending)}.")
        if pending:
            time.sleep(poll)

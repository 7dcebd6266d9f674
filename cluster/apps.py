"""One app as the read commands see it: its Deployment, the ReplicaSets it owns and their pods.

`logs`, `events` and `describe` all start here, so an app that is not there is refused the same
way everywhere: `AppNotFound`, one line that names the app, namespace and cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from .errors import NotFound
from .kube import Kube
from .names import app_name
from .objects import meta, name_of, uid_of

if TYPE_CHECKING:  # the Kubernetes client is imported at the first cluster call, not at start
    from kubernetes.client import V1Deployment, V1Pod, V1ReplicaSet


class AppNotFound(NotFound):
    """No Deployment of that name in the target namespace."""

    def __init__(self, app: str, namespace: str, cluster: str):
        super().__init__(f"there is no app `{app}` in namespace `{namespace}` on `{cluster}`.")
        self.app, self.namespace, self.cluster = app, namespace, cluster


@dataclass(frozen=True)
class AppObjects:
    """What one app is made of right now; ReplicaSets and pods newest first."""

    deployment: V1Deployment
    replica_sets: tuple[V1ReplicaSet, ...]
    pods: tuple[V1Pod, ...]

    @property
    def names(self) -> set[str]:
        """The names events about this app are filed under."""
        sets = {name_of(rs) for rs in self.replica_sets}
        return {name_of(self.deployment)} | sets | {name_of(p) for p in self.pods}


def _owned_by(obj: V1ReplicaSet | V1Pod, uids: set[str]) -> bool:
    return any(ref.uid in uids for ref in meta(obj).owner_references or [])


Owned = TypeVar("Owned", "V1ReplicaSet", "V1Pod")


def _newest_first(objects: list[Owned]) -> tuple[Owned, ...]:
    return tuple(sorted(objects, key=lambda o: (meta(o).creation_timestamp, name_of(o)), reverse=True))


def read_app(kube: Kube, app: str) -> AppObjects:
    """The app's Deployment, the ReplicaSets it owns and those ReplicaSets' pods (by owner uid)."""
    from kubernetes.client.exceptions import ApiException

    app_name(app)
    try:
        dep = kube.apps.read_namespaced_deployment(app, kube.namespace)
    except ApiException as exc:
        if exc.status == 404:
            raise AppNotFound(app, kube.namespace, kube.target.name) from None
        raise
    sets = [
        rs
        for rs in kube.apps.list_namespaced_replica_set(kube.namespace).items
        if _owned_by(rs, {uid_of(dep)})
    ]
    owners = {uid_of(rs) for rs in sets}
    pods = [p for p in kube.core.list_namespaced_pod(kube.namespace).items if _owned_by(p, owners)]
    return AppObjects(dep, _newest_first(sets), _newest_first(pods))

"""`rollback`: revisions from the ReplicaSets' revision annotations, and `kubectl rollout undo`.

Undo follows kubectl: the chosen ReplicaSet's pod template, without the pod-template-hash label,
replaces the Deployment's template (a JSON patch), together with the ReplicaSet's annotations minus
the ones the controller and kubectl manage — the ReplicaSet inherited them from the Deployment when
that revision was made (change-cause among them), so the revision's annotations come back with it.
Revision 0 means the one before the current.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ClusterError, InvalidInput, NotFound, api_errors
from .kube import Kube, connect
from .names import app_name
from .objects import Manifest, annotations_of, meta, name_of, template_image, template_of, uid_of
from .render import CHANGE_CAUSE
from .rollout import REVISION
from .target import ClusterTarget
from .timefmt import age

if TYPE_CHECKING:  # the Kubernetes client is imported at the first cluster call, not at start
    from kubernetes.client import V1Deployment, V1ReplicaSet

HASH_LABEL = "pod-template-hash"
# Annotations kubectl does not copy from a ReplicaSet to the Deployment on undo.
SKIPPED_ANNOTATIONS = {
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "kubectl.kubernetes.io/last-applied-configuration",
}


@dataclass(frozen=True)
class Revision:
    number: int
    image: str
    age: str
    replica_set: str
    current: bool
    change_cause: str = ""  # the kubernetes.io/change-cause the ReplicaSet inherited


@dataclass(frozen=True)
class RollbackResult:
    app: str
    from_revision: int
    to_revision: int
    image: str
    skipped: bool = False

    @property
    def line(self) -> str:
        if self.skipped:
            return f"{self.app} already runs revision {self.to_revision}'s template; nothing to roll back."
        revisions = f"from revision {self.from_revision} to {self.to_revision}"
        return f"{self.app}: rolling back {revisions} ({self.image})"


def _revision(rs: V1ReplicaSet) -> int:
    try:
        return int(annotations_of(rs).get(REVISION, "0"))
    except ValueError:
        return 0


def _owned_sets(kube: Kube, dep: V1Deployment) -> list[V1ReplicaSet]:
    uid = uid_of(dep)
    sets = kube.apps.list_namespaced_replica_set(kube.namespace).items
    return sorted(
        (rs for rs in sets if any(r.uid == uid and r.controller for r in meta(rs).owner_references or [])),
        key=_revision,
    )


def list_revisions(target: ClusterTarget, app: str) -> list[Revision]:
    """Every revision the Deployment still has a ReplicaSet for, oldest first."""
    app_name(app)
    with connect(target) as kube, api_errors(f"list revisions of {app}"):
        dep = kube.apps.read_namespaced_deployment(app, kube.namespace)
        current = annotations_of(dep).get(REVISION)
        return [
            Revision(
                _revision(rs),
                template_image(template_of(rs)),
                age(meta(rs).creation_timestamp),
                name_of(rs),
                str(_revision(rs)) == current,
                annotations_of(rs).get(CHANGE_CAUSE, ""),
            )
            for rs in _owned_sets(kube, dep)
        ]


def _choose(sets: list[V1ReplicaSet], current: int, to_revision: int) -> V1ReplicaSet:
    if to_revision == 0:
        older = [rs for rs in sets if _revision(rs) < current]
        if not older:
            raise NotFound("no previous revision to roll back to.")
        return older[-1]
    chosen = next((rs for rs in sets if _revision(rs) == to_revision), None)
    if chosen is None:
        known = ", ".join(str(_revision(rs)) for rs in sets) or "none"
        raise NotFound(f"revision {to_revision} not found (revisions: {known}).")
    return chosen


def undo_patch(kube: Kube, rs: V1ReplicaSet, dep: V1Deployment) -> list[Manifest]:
    """The JSON patch kubectl sends: the template without its hash label, and the copied annotations."""
    serialized: dict[str, Any] = kube.client.sanitize_for_serialization(template_of(rs))
    template = copy.deepcopy(serialized)
    (template.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    annotations = {k: v for k, v in annotations_of(dep).items() if k in SKIPPED_ANNOTATIONS}
    annotations.update({k: v for k, v in annotations_of(rs).items() if k not in SKIPPED_ANNOTATIONS})
    return [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]


def rollback(target: ClusterTarget, app: str, to_revision: int = 0) -> RollbackResult:
    """Roll `app` back to `to_revision` (0: the previous one). Follow it with RolloutWatcher."""
    app_name(app)
    if to_revision < 0:
        raise InvalidInput("revision must be a positive number.")
    with connect(target) as kube, api_errors(f"roll back {app}"):
        dep = kube.apps.read_namespaced_deployment(app, kube.namespace)
        if dep.spec.paused:
            raise ClusterError(f"roll back {app}: the deployment is paused; resume it first.")
        current = int(annotations_of(dep).get(REVISION, "0") or 0)
        chosen = _choose(_owned_sets(kube, dep), current, to_revision)
        image = template_image(template_of(chosen))
        if _revision(chosen) == current:
            return RollbackResult(app, current, current, image, skipped=True)
        kube.apps.patch_namespaced_deployment(
            app, kube.namespace, undo_patch(kube, chosen, dep), _content_type="application/json-patch+json"
        )
        return RollbackResult(app, current, _revision(chosen), image)

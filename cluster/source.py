"""Which source commit each Deployment runs: the `k8or.io/source-*` annotations `deploy` writes.

`deploy … --commit SHA --repo owner/name` puts them on the Deployment's metadata, next to its
change-cause; the controller copies them onto the ReplicaSet of that revision, so a rollback (which
copies a ReplicaSet's annotations back) brings its commit back too. `running_sources` reads them per
Deployment, with the revision before it, across every namespace the target may list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import Forbidden, InvalidInput, api_errors
from .kube import Kube, connect
from .names import commit_id, repository_name
from .objects import annotations_of, meta, name_of, template_image, template_of, uid_of
from .rollout import REVISION
from .target import ClusterTarget

if TYPE_CHECKING:  # the Kubernetes client is imported at the first cluster call, not at start
    from kubernetes.client import V1Deployment, V1ReplicaSet

SOURCE_COMMIT = "k8or.io/source-commit"
SOURCE_REPO = "k8or.io/source-repo"


@dataclass(frozen=True)
class SourceRef:
    """The commit of a repository that an image was built from."""

    repo: str
    commit: str

    def __post_init__(self) -> None:
        repository_name(self.repo)
        commit_id(self.commit)

    def annotations(self) -> dict[str, str]:
        """The Deployment annotations that record it."""
        return {SOURCE_REPO: self.repo, SOURCE_COMMIT: self.commit.lower()}

    @property
    def short(self) -> str:
        return self.commit[:7]


def source_of(annotations: dict[str, str]) -> SourceRef | None:
    """The source recorded in these annotations; None when absent or not well formed."""
    try:
        return SourceRef(annotations[SOURCE_REPO], annotations[SOURCE_COMMIT])
    except (KeyError, InvalidInput):
        return None


@dataclass(frozen=True)
class RunningSource:
    """One Deployment as a release question sees it: what runs, built from what, since when."""

    cluster: str
    namespace: str
    app: str
    revision: str
    image: str
    source: SourceRef | None
    rolled_out: bool  # the newest ReplicaSet is the one serving (Progressing: NewReplicaSetAvailable)
    since: dt.datetime | None  # when that rollout completed
    previous: SourceRef | None = None  # the revision before this one, when it recorded its source
    previous_revision: str = ""


def running_sources(target: ClusterTarget) -> tuple[RunningSource, ...]:
    """Every Deployment the target can list: across all namespaces, or only the target's namespace
    when the person may not list cluster-wide (impersonation keeps the cluster's RBAC in force)."""
    with connect(target) as kube, api_errors(f"deployments on {target.name}"):
        deployments: Sequence[V1Deployment]
        sets: Sequence[V1ReplicaSet]
        try:
            deployments = kube.apps.list_deployment_for_all_namespaces().items
            sets = kube.apps.list_replica_set_for_all_namespaces().items
        except Exception as exc:  # noqa: BLE001 - only a refusal narrows the scope; others are raised
            if not _forbidden(exc):
                raise
            deployments, sets = _namespaced(kube)
        return tuple(_running(target.name, dep, sets) for dep in deployments)


def _forbidden(exc: Exception) -> bool:
    return isinstance(exc, Forbidden) or getattr(exc, "status", None) == 403


def _namespaced(kube: Kube) -> tuple[Sequence[V1Deployment], Sequence[V1ReplicaSet]]:
    return (
        kube.apps.list_namespaced_deployment(kube.namespace).items,
        kube.apps.list_namespaced_replica_set(kube.namespace).items,
    )


def _revision(obj: V1Deployment | V1ReplicaSet) -> int:
    try:
        return int(annotations_of(obj).get(REVISION, "0"))
    except ValueError:
        return 0


def _running(cluster: str, dep: V1Deployment, sets: Sequence[V1ReplicaSet]) -> RunningSource:
    uid, revision = uid_of(dep), _revision(dep)
    owned = sorted(
        (rs for rs in sets if any(r.uid == uid and r.controller for r in meta(rs).owner_references or [])),
        key=_revision,
    )
    current = next((rs for rs in owned if _revision(rs) == revision), None)
    before = [rs for rs in owned if _revision(rs) < revision]
    previous = before[-1] if before else None
    rolled_out, since = _rollout(dep)
    return RunningSource(
        cluster=cluster,
        namespace=meta(dep).namespace or "",
        app=name_of(dep),
        revision=str(revision or "?"),
        image=template_image(template_of(dep)),
        # The ReplicaSet's copy belongs to the revision; the Deployment's may be ahead of it mid-rollout.
        source=source_of(annotations_of(current)) if current else source_of(annotations_of(dep)),
        rolled_out=rolled_out,
        since=since,
        previous=source_of(annotations_of(previous)) if previous else None,
        previous_revision=str(_revision(previous)) if previous else "",
    )


def _rollout(dep: V1Deployment) -> tuple[bool, dt.datetime | None]:
    conditions = (dep.status.conditions if dep.status else None) or []
    progressing = next((c for c in conditions if c.type == "Progressing"), None)
    if progressing is None or progressing.reason != "NewReplicaSetAvailable":
        return False, None
    return True, progressing.last_update_time or progressing.last_transition_time


def recorded_source(target: ClusterTarget, app: str) -> SourceRef | None:
    """The source the Deployment's own metadata records now. A rollback's patch brings its revision's
    annotations back at once, before the controller has numbered the ReplicaSet that runs it."""
    with connect(target) as kube, api_errors(f"deployment {app}"):
        return source_of(annotations_of(kube.apps.read_namespaced_deployment(app, kube.namespace)))

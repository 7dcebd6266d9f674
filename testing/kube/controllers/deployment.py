"""The Deployment controller, after kubernetes/pkg/controller/deployment (rolling update and recreate).

One ReplicaSet per pod template (named <deployment>-<pod-template-hash>), revision annotations that
increase and move to an old ReplicaSet when its template comes back (rollback), rolling scale up/down
bounded by maxSurge/maxUnavailable, and the Progressing/Available conditions with the progress deadline.
"""

from __future__ import annotations

import hashlib
import json
import math

from ..store import clone
from .base import DEPLOY, RS, Controller, condition, controlled_by, owner_ref, set_condition

REVISION = "deployment.kubernetes.io/revision"
HISTORY = "deployment.kubernetes.io/revision-history"
# deployment/util/deployment_util.go annotationsToSkip: never copied from a Deployment to its ReplicaSets.
NOT_COPIED = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    HISTORY,
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
}
HASH_LABEL = "pod-template-hash"
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def semantic(value):
    """The value as the API server's typed structs see it: a null field is an absent field."""
    if isinstance(value, dict):
        return {k: semantic(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [semantic(v) for v in value]
    return value


def template_hash(template: dict) -> str:
    digest = hashlib.sha256(json.dumps(semantic(template), sort_keys=True).encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:10])


def without_hash(template: dict) -> dict:
    clean = clone(template)
    labels = clean.get("metadata", {}).get("labels") or {}
    labels.pop(HASH_LABEL, None)
    return clean


def revision(rs: dict) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def copied_annotations(dep: dict) -> dict[str, str]:
    """The Deployment's annotations a ReplicaSet inherits (change-cause among them)."""
    return {k: v for k, v in (dep["metadata"].get("annotations") or {}).items() if k not in NOT_COPIED}


def resolve(value, total: int, round_up: bool) -> int:
    """maxSurge / maxUnavailable: an int, or a percentage of the desired replicas."""
    if isinstance(value, str) and value.endswith("%"):
        exact = total * int(value[:-1]) / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value or 0)


def replica_failure(conditions: list[dict], new: dict, old: list[dict]) -> list[dict]:
    """progress.go getReplicaFailures: the new ReplicaSet's ReplicaFailure condition (else an old
    one's) is copied onto the Deployment; without one, the Deployment's goes away."""
    found = next(
        (c for c in (new.get("status") or {}).get("conditions") or [] if c["type"] == "ReplicaFailure"), None
    )
    for rs in old:
        found = found or next(
            (c for c in (rs.get("status") or {}).get("conditions") or [] if c["type"] == "ReplicaFailure"),
            None,
        )
    kept = [c for c in conditions if c["type"] != "ReplicaFailure"]
    if found is None:
        return kept
    copied = {k: found[k] for k in ("type", "status", "reason", "message") if k in found}
    when = found.get("lastTransitionTime")
    return kept + [{**copied, "lastUpdateTime": when, "lastTransitionTime": when}]


class DeploymentController(Controller):
    """Reconciles Deployments into ReplicaSets and reports rollout status."""

    def __init__(self, fake):
        super().__init__(fake)
        self.progress: dict[str, tuple[tuple, float]] = {}  # uid -> (last counts, monotonic time of progress)

    def tick(self) -> None:
        for dep in self.live(DEPLOY):
            self.sync(dep)

    def sync(self, dep: dict) -> None:
        ns = dep["metadata"]["namespace"]
        owned = [
            rs
            for rs in self.store.list(RS, ns)
            if controlled_by(rs, dep) and not rs["metadata"].get("deletionTimestamp")
        ]
        template = dep["spec"]["template"]
        new = next(
            (rs for rs in owned if semantic(without_hash(rs["spec"]["template"])) == semantic(template)), None
        )
        top = max((revision(rs) for rs in owned), default=0)
        created = False
        if new is None:
            new, created = self._create_rs(dep, top + 1), True
        else:
            new = self._update_new_rs(dep, new, top)
        old = [rs for rs in owned if rs["metadata"]["uid"] != new["metadata"]["uid"]]
        if not dep["spec"].get("paused"):
            if dep["spec"].get("strategy", {}).get("type") == "Recreate":
                self._recreate(dep, new, old)
            else:
                self._rolling(dep, new, old)
        self._cleanup(dep, old)
        self._sync_status(dep, new, old, created)

    def _create_rs(self, dep: dict, rev: int) -> dict:
        template = clone(dep["spec"]["template"])
        pth = template_hash(template)
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pth
        selector = clone(dep["spec"]["selector"])
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pth
        meta = dep["metadata"]
        rs = {
            "metadata": {
                "name": f"{meta['name']}-{pth}",
                "namespace": meta["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {
                    **copied_annotations(dep),
                    REVISION: str(rev),
                    "deployment.kubernetes.io/desired-replicas": str(dep["spec"]["replicas"]),
                    "deployment.kubernetes.io/max-replicas": str(dep["spec"]["replicas"] + self._surge(dep)),
                },
                "ownerReferences": [owner_ref(DEPLOY, dep)],
            },
            "spec": {"replicas": 0, "selector": selector, "template": template},
            "status": {"replicas": 0},
        }
        created = self.store.create(RS, rs)
        self.event(
            DEPLOY,
            dep,
            "Normal",
            "ScalingReplicaSet",
            f'Created new replica set "{rs["metadata"]["name"]}"',
            "deployment-controller",
        )
        return created

    def _update_new_rs(self, dep: dict, rs: dict, top: int) -> dict:
        """SetNewReplicaSetAnnotations: the Deployment's annotations are copied onto the new ReplicaSet
        (added or changed, never removed), and a ReplicaSet that becomes new again gets the next
        revision, its old one moving to revision-history."""
        new = clone(rs)
        annotations = new["metadata"].setdefault("annotations", {})
        annotations.update(copied_annotations(dep))
        if revision(rs) < top:
            history = [h for h in annotations.get(HISTORY, "").split(",") if h] + [
                annotations.get(REVISION, "0")
            ]
            annotations[HISTORY] = ",".join(history)
            annotations[REVISION] = str(top + 1)
        return self.save(RS, new, rs)

    def _surge(self, dep: dict) -> int:
        rolling = dep["spec"].get("strategy", {}).get("rollingUpdate") or {}
        return resolve(rolling.get("maxSurge", "25%"), dep["spec"]["replicas"], True)

    def _unavailable(self, dep: dict) -> int:
        rolling = dep["spec"].get("strategy", {}).get("rollingUpdate") or {}
        unavailable = resolve(rolling.get("maxUnavailable", "25%"), dep["spec"]["replicas"], False)
        return 1 if unavailable == 0 and self._surge(dep) == 0 else unavailable

    def _scale(self, dep: dict, rs: dict, replicas: int) -> dict:
        current = rs["spec"]["replicas"]
        if current == replicas:
            return rs
        new = clone(rs)
        new["spec"]["replicas"] = replicas
        new["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/desired-replicas"] = str(
            dep["spec"]["replicas"]
        )
        direction = "up" if replicas > current else "down"
        self.event(
            DEPLOY,
            dep,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {rs['metadata']['name']} from {current} to {replicas}",
            "deployment-controller",
        )
        return self.save(RS, new, rs)

    def _rolling(self, dep: dict, new: dict, old: list[dict]) -> None:
        desired = dep["spec"]["replicas"]
        total = new["spec"]["replicas"] + sum(rs["spec"]["replicas"] for rs in old)
        if new["spec"]["replicas"] < desired:
            allowed = desired + self._surge(dep) - total
            if allowed > 0:
                new = self._scale(dep, new, min(desired, new["spec"]["replicas"] + allowed))
        elif new["spec"]["replicas"] > desired:
            new = self._scale(dep, new, desired)
        self._scale_down_old(dep, new, old)

    def _scale_down_old(self, dep: dict, new: dict, old: list[dict]) -> None:
        desired = dep["spec"]["replicas"]
        total = new["spec"]["replicas"] + sum(rs["spec"]["replicas"] for rs in old)
        min_available = desired - self._unavailable(dep)
        new_unavailable = new["spec"]["replicas"] - (new.get("status") or {}).get("availableReplicas", 0)
        budget = total - min_available - new_unavailable
        old = sorted(old, key=lambda rs: rs["metadata"]["creationTimestamp"])
        for i, rs in enumerate(old):  # first remove old pods that are not available anyway
            unhealthy = rs["spec"]["replicas"] - (rs.get("status") or {}).get("availableReplicas", 0)
            cut = min(max(unhealthy, 0), max(budget, 0))
            if cut:
                old[i] = self._scale(dep, rs, rs["spec"]["replicas"] - cut)
                budget -= cut
        available = sum((rs.get("status") or {}).get("availableReplicas", 0) for rs in [new] + old)
        budget = min(budget, available - min_available)
        for rs in old:
            cut = min(rs["spec"]["replicas"], max(budget, 0))
            if cut:
                self._scale(dep, rs, rs["spec"]["replicas"] - cut)
                budget -= cut

    def _recreate(self, dep: dict, new: dict, old: list[dict]) -> None:
        for rs in old:
            self._scale(dep, rs, 0)
        if all((rs.get("status") or {}).get("replicas", 0) == 0 for rs in old):
            self._scale(dep, new, dep["spec"]["replicas"])

    def _cleanup(self, dep: dict, old: list[dict]) -> None:
        """Keep revisionHistoryLimit scaled-down old ReplicaSets; delete older ones."""
        idle = sorted(
            (rs for rs in old if rs["spec"]["replicas"] == 0 and not rs.get("status", {}).get("replicas")),
            key=revision,
        )
        excess = len(idle) - dep["spec"].get("revisionHistoryLimit", 10)
        for rs in idle[: max(excess, 0)]:
            self.api.mark_deleted(RS, rs, "Background")

    def _sync_status(self, dep: dict, new: dict, old: list[dict], created: bool) -> None:
        desired = dep["spec"]["replicas"]
        every = [new] + old
        counts = {
            k: sum((rs.get("status") or {}).get(k, 0) for rs in every)
            for k in ("replicas", "readyReplicas", "availableReplicas")
        }
        updated = (new.get("status") or {}).get("replicas", 0)
        status = {
            "observedGeneration": dep["metadata"]["generation"],
            "replicas": counts["replicas"],
            "updatedReplicas": updated,
            "readyReplicas": counts["readyReplicas"],
            "availableReplicas": counts["availableReplicas"],
            "unavailableReplicas": max(desired - counts["availableReplicas"], 0),
        }
        status = {k: v for k, v in status.items() if v or k == "observedGeneration"}
        conditions = (dep.get("status") or {}).get("conditions") or []
        available_ok = counts["availableReplicas"] >= desired - self._unavailable(dep)
        conditions = set_condition(
            conditions,
            "Available",
            "True" if available_ok else "False",
            "MinimumReplicasAvailable" if available_ok else "MinimumReplicasUnavailable",
            "Deployment has minimum availability."
            if available_ok
            else "Deployment does not have minimum availability.",
            probe_times=True,
        )
        conditions = self._progressing(
            dep,
            new,
            conditions,
            created,
            (
                updated,
                counts["replicas"],
                counts["readyReplicas"],
                counts["availableReplicas"],
                new["metadata"]["name"],
                desired,
            ),
        )
        status["conditions"] = replica_failure(conditions, new, old)
        updated_dep = clone(dep)
        updated_dep["status"] = status
        updated_dep["metadata"].setdefault("annotations", {})[REVISION] = str(revision(new))
        self.save(DEPLOY, updated_dep, dep)

    def _progressing(
        self, dep: dict, new: dict, conditions: list[dict], created: bool, counts: tuple
    ) -> list[dict]:
        uid, name = dep["metadata"]["uid"], new["metadata"]["name"]
        updated, replicas, _, available, _, desired = counts
        complete = updated == desired and replicas == desired and available == desired
        previous = self.progress.get(uid)
        if created or previous is None or previous[0] != counts:
            self.progress[uid] = (counts, self.fake.clock.mono())
        current = condition(dep, "Progressing")
        if complete:
            return self._set_progress(
                conditions,
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{name}" has successfully progressed.',
            )
        if created:
            return self._set_progress(
                conditions, "True", "NewReplicaSetCreated", f'Created new replica set "{name}"'
            )
        if (
            current
            and current.get("reason") == "ProgressDeadlineExceeded"
            and name in current.get("message", "")
        ):
            return conditions
        deadline = dep["spec"].get("progressDeadlineSeconds", 600)
        if self.fake.clock.elapsed(self.progress[uid][1]) > deadline:
            return self._set_progress(
                conditions,
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{name}" has timed out progressing.',
            )
        if (
            previous is None
            or previous[0] != counts
            or (current or {}).get("reason") == "NewReplicaSetAvailable"
        ):
            return self._set_progress(
                conditions, "True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.'
            )
        return conditions

    @staticmethod
    def _set_progress(conditions: list[dict], status: str, reason: str, message: str) -> list[dict]:
        return set_condition(conditions, "Progressing", status, reason, message, probe_times=True)

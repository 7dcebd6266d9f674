"""What every controller needs: owner references, status writes, conditions, events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..apiserver import random_suffix
from ..kinds import BY_KIND, Kind
from ..podadmission import admit_pod
from ..store import clone, now_rfc3339

if TYPE_CHECKING:
    from ..fake import FakeKube

POD, RS, DEPLOY, JOB = BY_KIND["Pod"], BY_KIND["ReplicaSet"], BY_KIND["Deployment"], BY_KIND["Job"]
PVC, PV, SC, NODE, EVENT = (
    BY_KIND["PersistentVolumeClaim"],
    BY_KIND["PersistentVolume"],
    BY_KIND["StorageClass"],
    BY_KIND["Node"],
    BY_KIND["Event"],
)
NAMESPACE = BY_KIND["Namespace"]


class Controller:
    """A reconcile loop body; `fake` gives it the store, the clock and the runtime."""

    def __init__(self, fake: FakeKube):
        self.fake = fake
        self.store = fake.store
        self.api = fake.api

    def tick(self) -> None:
        raise NotImplementedError

    def live(self, kind: Kind) -> list[dict]:
        return [o for o in self.store.list(kind) if not o["metadata"].get("deletionTimestamp")]

    def event(self, kind: Kind, obj: dict, type_: str, reason: str, message: str, component: str) -> None:
        self.fake.events.record(kind, obj, type_, reason, message, component)

    def save(self, kind: Kind, new: dict, old: dict) -> dict:
        """Write a controller's change; the store skips writes that change nothing."""
        return self.store.update(kind, new, old)

    def create_pod(self, owner_kind: Kind, owner: dict, template: dict) -> dict:
        """Create a pod through admission, as a controller's POST does: named from generateName
        only once admitted; a refusal raises the ApiError the controller would get back."""
        pod = new_pod(owner_kind, owner, template)
        admit_pod(self.store, pod)
        pod["metadata"]["name"] = pod["metadata"]["generateName"] + random_suffix()
        return self.store.create(POD, pod)


@dataclass
class Backoff:
    """The controllers' work-queue rate limiter (client-go workqueue.DefaultControllerRateLimiter's
    per-item part): after a failed sync, retry after 5 ms, doubling to at most 1000 s (fake time)."""

    failures: dict[str, tuple[int, float]] = field(default_factory=dict)

    def ready(self, fake: FakeKube, key: str) -> bool:
        count, since = self.failures.get(key, (0, 0.0))
        return count == 0 or fake.clock.elapsed(since) >= min(0.005 * 2 ** (count - 1), 1000.0)

    def failed(self, fake: FakeKube, key: str) -> None:
        self.failures[key] = (self.failures.get(key, (0, 0.0))[0] + 1, fake.clock.mono())

    def forget(self, key: str) -> None:
        self.failures.pop(key, None)


def new_pod(owner_kind: Kind, owner: dict, template: dict) -> dict:
    """A pod from a template, generateName <owner>-, owned by its controller (named at creation)."""
    meta = owner["metadata"]
    tmeta = template.get("metadata") or {}
    pod_meta = {
        "generateName": f"{meta['name']}-",
        "namespace": meta["namespace"],
        "labels": dict(tmeta.get("labels") or {}),
        "ownerReferences": [owner_ref(owner_kind, owner)],
    }
    if tmeta.get("annotations"):
        pod_meta["annotations"] = dict(tmeta["annotations"])
    spec = clone(template["spec"])
    spec.setdefault("serviceAccountName", "default")
    return {"metadata": pod_meta, "spec": spec, "status": {"phase": "Pending", "qosClass": "BestEffort"}}


def owner_ref(kind: Kind, owner: dict) -> dict:
    meta = owner["metadata"]
    return {
        "apiVersion": kind.api_version,
        "kind": kind.kind,
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controlled_by(obj: dict, owner: dict) -> bool:
    uid = owner["metadata"]["uid"]
    return any(
        r.get("uid") == uid and r.get("controller") for r in obj["metadata"].get("ownerReferences") or []
    )


def set_condition(
    conditions: list[dict], type_: str, status: str, reason: str, message: str, probe_times: bool = False
) -> list[dict]:
    """Set one condition; lastTransitionTime moves only when the status flips."""
    now = now_rfc3339()
    result = [clone(c) for c in conditions]
    current = next((c for c in result if c["type"] == type_), None)
    if current is None:
        current = {"type": type_}
        result.append(current)
    changed = (current.get("status"), current.get("reason"), current.get("message")) != (
        status,
        reason,
        message,
    )
    if current.get("status") != status:
        current["lastTransitionTime"] = now
    current.update(status=status, reason=reason, message=message)
    if probe_times and (changed or "lastUpdateTime" not in current):
        current["lastUpdateTime"] = now
    return result


def condition(obj: dict, type_: str) -> dict | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == type_), None)

"""What every controller needs: owner references, status writes, conditions, events."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from ..kinds import BY_KIND, Kind
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

    def tick(self) -> None:
        raise NotImplementedError

    def live(self, kind: Kind) -> list[dict]:
        return [o for o in self.store.list(kind) if not o["metadata"].get("deletionTimestamp")]

    def event(self, kind: Kind, obj: dict, type_: str, reason: str, message: str, component: str) -> None:
        record_event(self.fake, kind, obj, type_, reason, message, component)

    def save(self, kind: Kind, new: dict, old: dict) -> dict:
        """Write a controller's change; the store skips writes that change nothing."""
        return self.store.update(kind, new, old)


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


def record_event(
    fake: FakeKube, kind: Kind, obj: dict, type_: str, reason: str, message: str, component: str
) -> None:
    """Create or bump (count, lastTimestamp) a core/v1 Event about `obj`, like the event recorder does."""
    meta = obj["metadata"]
    namespace = meta.get("namespace") or "default"
    for existing in fake.store.list(EVENT, namespace):
        inv = existing["involvedObject"]
        if (
            inv.get("uid") == meta.get("uid")
            and existing["reason"] == reason
            and existing["message"] == message
        ):
            bumped = clone(existing)
            bumped["count"] = existing.get("count", 1) + 1
            bumped["lastTimestamp"] = now_rfc3339()
            fake.store.update(EVENT, bumped, existing)
            return
    now = now_rfc3339()
    fake.store.create(
        EVENT,
        {
            "metadata": {"name": f"{meta['name']}.{secrets.token_hex(8)}", "namespace": namespace},
            "involvedObject": {
                "kind": kind.kind,
                "apiVersion": kind.api_version,
                "name": meta["name"],
                "namespace": meta.get("namespace", ""),
                "uid": meta.get("uid", ""),
            },
            "reason": reason,
            "message": message,
            "type": type_,
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "source": {"component": component},
            "reportingComponent": component,
            "reportingInstance": "fake",
        },
    )

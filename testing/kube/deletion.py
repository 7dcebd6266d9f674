"""Deleting objects: propagation finalizers, pods' grace periods, and when an object is really gone.

After staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go (Delete: an object with
finalizers, or a grace period left, gets a deletionTimestamp and stays; once its last finalizer is
removed and no grace is left, it goes) and pkg/registry/core/pod/strategy.go CheckGracefulDelete.
"""

from __future__ import annotations

from .kinds import Kind
from .store import ObjectStore, clone, now_rfc3339

FOREGROUND, ORPHAN = "foregroundDeletion", "orphan"


def pod_grace(pod: dict, requested: int | None) -> int:
    """CheckGracefulDelete: the request's grace period, else the pod's terminationGracePeriodSeconds;
    0 for a pod on no node or already finished (nothing runs that could stop gracefully)."""
    spec, phase = pod.get("spec") or {}, (pod.get("status") or {}).get("phase")
    if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
        return 0
    if requested is not None:
        return max(int(requested), 0)
    return int(spec.get("terminationGracePeriodSeconds", 30))


def deleted(kind: Kind, obj: dict, policy: str, grace: int | None) -> dict | None:
    """The object as deletion leaves it, or None when it goes at once."""
    new = clone(obj)
    meta = new["metadata"]
    finalizers = list(meta.get("finalizers") or [])
    wanted = {"Foreground": FOREGROUND, "Orphan": ORPHAN}.get(policy)
    if wanted and wanted not in finalizers:
        finalizers.append(wanted)
    period = pod_grace(obj, grace) if kind.kind == "Pod" else None
    if meta.get("deletionGracePeriodSeconds") is not None and period is not None:
        period = min(period, meta["deletionGracePeriodSeconds"])  # a grace period only shortens
    if not finalizers and not period:
        return None
    if finalizers:
        meta["finalizers"] = finalizers
    meta.setdefault("deletionTimestamp", now_rfc3339())
    if period is not None:
        meta["deletionGracePeriodSeconds"] = period
    return new


def mark(store: ObjectStore, kind: Kind, obj: dict, policy: str, grace: int | None = None) -> dict:
    """Start deleting an object (clients and the garbage collector alike); returns what was stored,
    or the object itself when it went at once."""
    new = deleted(kind, obj, policy, grace)
    if new is None:
        store.remove(kind, obj)
        return obj
    return store.update(kind, new, obj)


def finish_if_unblocked(store: ObjectStore, kind: Kind, obj: dict) -> None:
    """An object being deleted goes once no finalizer holds it and no grace period is left (a pod's
    is, until its kubelet's final delete sets it to 0)."""
    meta = obj["metadata"]
    if (
        meta.get("deletionTimestamp")
        and not meta.get("finalizers")
        and not meta.get("deletionGracePeriodSeconds")
    ):
        store.remove(kind, obj)


def remove_finalizer(store: ObjectStore, kind: Kind, obj: dict, finalizer: str) -> None:
    new = clone(obj)
    new["metadata"]["finalizers"] = [f for f in obj["metadata"].get("finalizers") or [] if f != finalizer]
    if not new["metadata"]["finalizers"]:
        del new["metadata"]["finalizers"]
    finish_if_unblocked(store, kind, store.update(kind, new, obj))

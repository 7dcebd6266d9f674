"""The garbage collector: foreground and orphan finalizers, and dependents whose owners are gone.

After pkg/controller/garbagecollector/garbagecollector.go: an owner in foreground deletion waits for
its blocking dependents; a dependent that has dependents of its own is deleted in the foreground too,
a leaf (a pod) in the background (attemptToDeleteItem's default case), so an unscheduled pod goes at
once (its grace period is 0) and a running one after its kubelet stops it.
"""

from __future__ import annotations

from ..store import clone
from .base import NAMESPACE, Controller

FOREGROUND, ORPHAN = "foregroundDeletion", "orphan"


class GarbageCollector(Controller):
    def tick(self) -> None:
        objects = self.store.all_objects()
        uids = {o["metadata"]["uid"] for _, o in objects}
        namespaces = {o["metadata"]["name"] for o in self.store.list(NAMESPACE)}
        dependents: dict[str, list] = {}
        for kind, obj in objects:
            for ref in obj["metadata"].get("ownerReferences") or []:
                dependents.setdefault(ref["uid"], []).append((kind, obj))
        for kind, obj in objects:
            meta = obj["metadata"]
            if kind.namespaced and meta.get("namespace") not in namespaces:
                self.store.remove(kind, obj)
            elif meta.get("deletionTimestamp"):
                self._finalize(kind, obj, dependents)
            elif meta.get("ownerReferences") and not any(r["uid"] in uids for r in meta["ownerReferences"]):
                self.api.mark_deleted(kind, obj, "Background")

    def _finalize(self, kind, obj: dict, dependents: dict[str, list]) -> None:
        finalizers = obj["metadata"].get("finalizers") or []
        uid = obj["metadata"]["uid"]
        deps = dependents.get(uid, [])
        if ORPHAN in finalizers:
            for dep_kind, dep in deps:
                new = clone(dep)
                new["metadata"]["ownerReferences"] = [
                    r for r in dep["metadata"]["ownerReferences"] if r["uid"] != uid
                ]
                if not new["metadata"]["ownerReferences"]:
                    del new["metadata"]["ownerReferences"]
                self.store.update(dep_kind, new, dep)
            self.api.remove_finalizer(kind, obj, ORPHAN)
        elif FOREGROUND in finalizers:
            blocking = [
                (k, d)
                for k, d in deps
                if any(
                    r["uid"] == uid and r.get("blockOwnerDeletion")
                    for r in d["metadata"].get("ownerReferences") or []
                )
            ]
            for dep_kind, dep in blocking:
                if not dep["metadata"].get("deletionTimestamp"):
                    has_own = bool(dependents.get(dep["metadata"]["uid"]))
                    self.api.mark_deleted(dep_kind, dep, "Foreground" if has_own else "Background")
            if not blocking:
                self.api.remove_finalizer(kind, obj, FOREGROUND)

"""The garbage collector: foreground and orphan finalizers, and dependents whose owners are gone."""

from __future__ import annotations

from ..apiserver import ApiServer
from ..store import clone
from .base import NAMESPACE, Controller

FOREGROUND, ORPHAN = "foregroundDeletion", "orphan"


class GarbageCollector(Controller):
    def tick(self) -> None:
        api = ApiServer(self.store)
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
                self._finalize(api, kind, obj, dependents.get(meta["uid"], []))
            elif meta.get("ownerReferences") and not any(r["uid"] in uids for r in meta["ownerReferences"]):
                api.mark_deleted(kind, obj, "Background")

    def _finalize(self, api: ApiServer, kind, obj: dict, deps: list) -> None:
        finalizers = obj["metadata"].get("finalizers") or []
        uid = obj["metadata"]["uid"]
        if ORPHAN in finalizers:
            for dep_kind, dep in deps:
                new = clone(dep)
                new["metadata"]["ownerReferences"] = [
                    r for r in dep["metadata"]["ownerReferences"] if r["uid"] != uid
                ]
                if not new["metadata"]["ownerReferences"]:
                    del new["metadata"]["ownerReferences"]
                self.store.update(dep_kind, new, dep)
            api.remove_finalizer(kind, obj, ORPHAN)
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
                    # Dependents of an owner in foreground deletion are deleted in the foreground too.
                    api.mark_deleted(dep_kind, dep, "Foreground")
            if not blocking:
                api.remove_finalizer(kind, obj, FOREGROUND)

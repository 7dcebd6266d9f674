"""The verbs of the API server over the object store: create, get, list, update, patch, delete.

HTTP handlers call these with client input (validated); controllers write through the store directly,
as the real controllers' writes are not what the library under test produces.
"""

from __future__ import annotations

import secrets

from . import admission, fieldmanager, patching
from .kinds import Kind
from .selectors import field_matcher, label_matcher
from .statuses import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    namespace_not_found,
    not_found,
    unsupported_media,
)
from .store import ObjectStore, clone, now_rfc3339

_CONSONANTS = "bcdfghjklmnpqrstvwxz2456789"
# Dependents of these kinds are orphaned unless the client asks otherwise (batch/v1 Job's default).
_ORPHAN_BY_DEFAULT = {"Job"}


def random_suffix(n: int = 5) -> str:
    return "".join(secrets.choice(_CONSONANTS) for _ in range(n))


class ApiServer:
    """Request semantics over an ObjectStore."""

    def __init__(self, store: ObjectStore):
        self.store = store

    # --- reads -------------------------------------------------------------------------------

    def get(self, kind: Kind, namespace: str, name: str) -> dict:
        obj = self.store.get(kind, namespace, name)
        if obj is None:
            raise not_found(kind, name)
        return obj

    def list(self, kind: Kind, namespace: str | None, labels: str | None, fields: str | None) -> dict:
        match_labels, match_fields = label_matcher(labels), field_matcher(fields)
        items = [o for o in self.store.list(kind, namespace) if match_labels(o) and match_fields(o)]
        return {
            "kind": f"{kind.kind}List",
            "apiVersion": kind.api_version,
            "metadata": {"resourceVersion": str(self.store.last_rv)},
            "items": items,
        }

    # --- writes ------------------------------------------------------------------------------

    def create(self, kind: Kind, namespace: str, body: dict, manager: str, dry_run: bool = False) -> dict:
        admission.refuse_kind_mismatch(kind, body)
        obj = self._fresh(kind, namespace, body)
        name = obj["metadata"]["name"]
        if self.store.get(kind, namespace, name) is not None:
            raise already_exists(kind, name)
        obj = admission.default(kind, obj, self._lookup)
        self._admit_new(kind, obj)
        admission.validate(kind, obj, None)
        fieldmanager.record_update(kind, None, obj, manager)
        return clone(obj) if dry_run else self.store.create(kind, obj)

    def _fresh(self, kind: Kind, namespace: str, body: dict) -> dict:
        obj = clone(body)
        meta = obj.setdefault("metadata", {})
        for key in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation"):
            meta.pop(key, None)
        obj.pop("status", None) if kind.kind not in ("Event",) else None
        if kind.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = namespace
            if self.store.get(_NAMESPACE, "", namespace) is None:
                raise namespace_not_found(namespace)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + random_suffix()
        obj["apiVersion"], obj["kind"] = kind.api_version, kind.kind
        return obj

    def _admit_new(self, kind: Kind, obj: dict) -> None:
        """Admission plugins that act on creation: PVC protection, namespace phase."""
        if kind.kind == "PersistentVolumeClaim":
            obj["metadata"].setdefault("finalizers", []).append("kubernetes.io/pvc-protection")
            obj["status"] = {"phase": "Pending"}
        elif kind.kind == "Namespace":
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj["status"] = {"phase": "Active"}
        elif kind.kind == "Pod":
            obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}

    def _lookup(self, what: str) -> str | None:
        if what == "default-storage-class":
            for sc in self.store.list(_STORAGECLASS):
                if (sc["metadata"].get("annotations") or {}).get(
                    "storageclass.kubernetes.io/is-default-class"
                ) == "true":
                    return sc["metadata"]["name"]
        return None

    def replace(
        self, kind: Kind, namespace: str, name: str, body: dict, manager: str, subresource: str = ""
    ) -> dict:
        """PUT: optimistic concurrency on metadata.resourceVersion."""
        admission.refuse_kind_mismatch(kind, body)
        old = self.get(kind, namespace, name)
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        if wanted and wanted != old["metadata"]["resourceVersion"]:
            raise conflict(kind, name)
        new = clone(body)
        if subresource == "status":
            new = {**clone(old), "status": body.get("status")}
        else:
            new["status"] = clone(old.get("status")) if "status" in old else new.pop("status", None)
            if new.get("status") is None:
                new.pop("status", None)
        return self._store_update(kind, old, new, manager)

    def patch(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        body,
        content_type: str,
        manager: str | None,
        force: bool,
        subresource: str = "",
    ) -> dict:
        """PATCH in its four flavours; apply creates the object when it is absent."""
        ctype = content_type.split(";")[0].strip()
        old = self.store.get(kind, namespace, name)
        if ctype == "application/apply-patch+yaml":
            return self._apply(kind, namespace, name, body, old, manager, force)
        if old is None:
            raise not_found(kind, name)
        if ctype == "application/merge-patch+json":
            new = patching.merge_patch(old, body)
        elif ctype == "application/strategic-merge-patch+json":
            new = patching.strategic_merge(old, body)
        elif ctype == "application/json-patch+json":
            if not isinstance(body, list):
                raise bad_request("json patch body must be a list of operations")
            new = patching.json_patch(old, body)
        else:
            raise unsupported_media(ctype)
        wanted = (body.get("metadata") or {}).get("resourceVersion") if isinstance(body, dict) else None
        if wanted and wanted != old["metadata"]["resourceVersion"]:
            raise conflict(kind, name)
        if subresource != "status":
            new["status"] = clone(old.get("status"))
            if new["status"] is None:
                new.pop("status")
        return self._store_update(kind, old, new, manager or "unknown")

    def _apply(
        self, kind: Kind, namespace: str, name: str, body, old: dict | None, manager: str | None, force: bool
    ) -> dict:
        if not manager:
            raise bad_request("PATCH, fieldManager: Required value: is required for apply patch")
        if not isinstance(body, dict):
            raise bad_request("apply patch body must be an object")
        admission.refuse_kind_mismatch(kind, body)
        if (body.get("metadata") or {}).get("name") not in (None, name):
            raise bad_request("the name of the object does not match the name on the URL")
        if old is None:
            obj = self._fresh(
                kind, namespace, {**body, "metadata": {**(body.get("metadata") or {}), "name": name}}
            )
            obj = fieldmanager.apply(kind, None, obj, manager, force)
            obj = admission.default(kind, obj, self._lookup)
            self._admit_new(kind, obj)
            admission.validate(kind, obj, None)
            return self.store.create(kind, obj)
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        if wanted and wanted != old["metadata"]["resourceVersion"]:
            raise conflict(kind, name)
        new = fieldmanager.apply(kind, old, body, manager, force)
        new["status"] = clone(old.get("status"))
        if new["status"] is None:
            new.pop("status")
        new = admission.default(kind, new, self._lookup)
        admission.validate(kind, new, old)
        return self.store.update(kind, new, old)

    def _store_update(self, kind: Kind, old: dict, new: dict, manager: str) -> dict:
        meta = new.setdefault("metadata", {})
        for key in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp"):
            if key in old["metadata"]:
                meta[key] = old["metadata"][key]
        meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        new = admission.default(kind, new, self._lookup)
        admission.validate(kind, new, old)
        fieldmanager.record_update(kind, old, new, manager)
        updated = self.store.update(kind, new, old)
        self._finish_if_unblocked(kind, updated)
        return updated

    # --- deletion ----------------------------------------------------------------------------

    def delete(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        policy: str | None,
        grace: int | None = None,
        precondition_rv: str | None = None,
    ) -> dict:
        """DELETE with Foreground, Background or Orphan propagation; pods terminate gracefully."""
        obj = self.get(kind, namespace, name)
        if precondition_rv and precondition_rv != obj["metadata"]["resourceVersion"]:
            raise conflict(kind, name)
        policy = policy or ("Orphan" if kind.kind in _ORPHAN_BY_DEFAULT else "Background")
        if policy not in ("Foreground", "Background", "Orphan"):
            raise bad_request(f"propagationPolicy: Unsupported value: {policy!r}")
        return self.mark_deleted(kind, obj, policy, grace)

    def mark_deleted(self, kind: Kind, obj: dict, policy: str, grace: int | None = None) -> dict:
        """Start deleting an object; used by clients and by the garbage collector alike."""
        new = clone(obj)
        meta = new["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        graceful = kind.kind == "Pod" and (obj.get("spec") or {}).get("nodeName") and grace != 0
        if not finalizers and not graceful:
            self.store.remove(kind, obj)
            return obj
        if finalizers:
            meta["finalizers"] = finalizers
        meta.setdefault("deletionTimestamp", now_rfc3339())
        if graceful:
            meta.setdefault("deletionGracePeriodSeconds", 30 if grace is None else grace)
        return self.store.update(kind, new, obj)

    def _finish_if_unblocked(self, kind: Kind, obj: dict) -> None:
        """An object being deleted disappears once its last finalizer is removed."""
        meta = obj["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and kind.kind != "Pod":
            self.store.remove(kind, obj)

    def remove_finalizer(self, kind: Kind, obj: dict, finalizer: str) -> None:
        new = clone(obj)
        new["metadata"]["finalizers"] = [f for f in obj["metadata"].get("finalizers") or [] if f != finalizer]
        if not new["metadata"]["finalizers"]:
            del new["metadata"]["finalizers"]
        self._finish_if_unblocked(kind, self.store.update(kind, new, obj))


def _kind(kind_name: str) -> Kind:
    from .kinds import BY_KIND

    return BY_KIND[kind_name]


_NAMESPACE = _kind("Namespace")
_STORAGECLASS = _kind("StorageClass")

__all__ = ["ApiServer", "ApiError", "random_suffix"]

"""The verbs of the API server over the object store: create, get, list, update, patch, delete.

HTTP handlers call these with client input (validated); controllers write through the store directly,
as the real controllers' writes are not what the library under test produces. A `Write` carries what
the request's query says about a write (dryRun, fieldValidation) and collects its warnings.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from . import admission, deletion, fieldmanager, paging, patching, podadmission, unknown_fields
from .kinds import BY_KIND, Kind
from .selectors import field_matcher, label_matcher
from .statuses import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    namespace_not_found,
    not_found,
    unconditional_update,
    unsupported_media,
)
from .store import ObjectStore, clone

_CONSONANTS = "bcdfghjklmnpqrstvwxz2456789"
# Dependents of these kinds are orphaned unless the client asks otherwise (batch/v1 Job's default).
_ORPHAN_BY_DEFAULT = {"Job"}
# Kinds whose registry strategy says AllowUnconditionalUpdate() false: a PUT must name a version.
_CONDITIONAL_UPDATES_ONLY = {"Lease"}
APPLY = "application/apply-patch+yaml"


def random_suffix(n: int = 5) -> str:
    return "".join(secrets.choice(_CONSONANTS) for _ in range(n))


@dataclass
class Write:
    """What a write's query asks (dryRun=All: everything but storage; fieldValidation: what to do
    about undeclared fields), and the warnings its answer carries."""

    dry_run: bool = False
    validation: str = "Strict"  # the fake's own helpers are strict; HTTP requests default to Warn
    warnings: list[str] = field(default_factory=list)


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

    def list(
        self,
        kind: Kind,
        namespace: str | None,
        labels: str | None,
        fields: str | None,
        limit: str | None = None,
        token: str | None = None,
    ) -> dict:
        """A list, in pages when asked (see paging.py)."""
        match_labels, match_fields = label_matcher(labels), field_matcher(fields, kind)
        items = [o for o in self.store.list(kind, namespace) if match_labels(o) and match_fields(o)]
        page = paging.page(items, namespace, limit, token, self.store.last_rv)
        return {
            "kind": f"{kind.kind}List",
            "apiVersion": kind.api_version,
            "metadata": page.metadata,
            "items": page.items,
        }

    # --- writes ------------------------------------------------------------------------------

    def create(
        self, kind: Kind, namespace: str, body: dict, manager: str, write: Write | None = None
    ) -> dict:
        write = write or Write()
        admission.refuse_kind_mismatch(kind, body)
        obj = self._fresh(kind, namespace, body)
        unknown_fields.handle(kind, obj, write.validation, write.warnings)
        name = obj["metadata"]["name"]
        if self.store.get(kind, namespace, name) is not None:
            raise already_exists(kind, name)
        return self._store_new(kind, obj, write.dry_run, manager)

    def _store_new(self, kind: Kind, obj: dict, dry_run: bool, manager: str | None = None) -> dict:
        """Defaulting, admission, validation, then storage (unless a dry run) of a new object.
        An Update manager (create) owns the defaulted fields too; an applier only what it applied."""
        obj = admission.default(kind, obj, self._lookup)
        if manager is not None:
            fieldmanager.record_update(kind, None, obj, manager)
        self._admit_new(kind, obj)
        if kind.kind == "Pod":
            podadmission.admit_pod(self.store, obj)
        admission.validate(kind, obj, None)
        if dry_run:
            return self.store.preview(kind, obj)
        created = self.store.create(kind, obj)
        if kind.kind == "Namespace":
            self._default_service_account(created["metadata"]["name"])
        return created

    def _default_service_account(self, namespace: str) -> None:
        """The serviceaccount controller's `default` account in every new namespace (at once here;
        a real cluster takes a moment, and a pod created in between is refused)."""
        account = {"metadata": {"name": "default", "namespace": namespace}}
        self.store.create(BY_KIND["ServiceAccount"], account)

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
            if self.store.get(BY_KIND["Namespace"], "", namespace) is None:
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
            for sc in self.store.list(BY_KIND["StorageClass"]):
                annotations = sc["metadata"].get("annotations") or {}
                if annotations.get("storageclass.kubernetes.io/is-default-class") == "true":
                    return sc["metadata"]["name"]
        return None

    def replace(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        body: dict,
        manager: str,
        subresource: str = "",
        write: Write | None = None,
    ) -> dict:
        """PUT: optimistic concurrency on metadata.resourceVersion."""
        write = write or Write()
        admission.refuse_kind_mismatch(kind, body)
        old = self.get(kind, namespace, name)
        _check_version(kind, name, body, old, put=True)
        new = clone(body)
        if subresource == "status":
            new = {**clone(old), "status": body.get("status")}
        else:
            unknown_fields.handle(kind, new, write.validation, write.warnings)
            _keep_status(new, old)
        return self._store_update(kind, old, new, manager, write.dry_run)

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
        write: Write | None = None,
    ) -> dict:
        """PATCH in its four flavours; apply creates the object when it is absent."""
        write = write or Write()
        ctype = content_type.split(";")[0].strip()
        old = self.store.get(kind, namespace, name)
        if ctype == APPLY:
            return self._apply(kind, namespace, name, body, old, manager, force, write.dry_run)
        if old is None:
            raise not_found(kind, name)
        new = patched(old, body, ctype)
        _check_version(kind, name, body, old)
        if subresource != "status":
            unknown_fields.handle(kind, new, write.validation, write.warnings)
            _keep_status(new, old)
        return self._store_update(kind, old, new, manager or "unknown", write.dry_run)

    def _apply(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        body,
        old: dict | None,
        manager: str | None,
        force: bool,
        dry_run: bool,
    ) -> dict:
        if not manager:
            raise bad_request("PATCH, fieldManager: Required value: is required for apply patch")
        if not isinstance(body, dict):
            raise bad_request("apply patch body must be an object")
        admission.refuse_kind_mismatch(kind, body)
        if (body.get("metadata") or {}).get("name") not in (None, name):
            raise bad_request("the name of the object does not match the name on the URL")
        unknown_fields.refuse_apply(kind, namespace, name, body)
        if old is None:
            named = {**body, "metadata": {**(body.get("metadata") or {}), "name": name}}
            obj = fieldmanager.apply(kind, None, self._fresh(kind, namespace, named), manager, force)
            return self._store_new(kind, obj, dry_run)
        _check_version(kind, name, body, old)
        new = fieldmanager.apply(kind, old, body, manager, force)
        _keep_status(new, old)
        new = admission.default(kind, new, self._lookup)
        admission.validate(kind, new, old)
        return self._store(kind, new, old, dry_run)

    def _store_update(self, kind: Kind, old: dict, new: dict, manager: str, dry_run: bool = False) -> dict:
        meta = new.setdefault("metadata", {})
        for key in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp"):
            if key in old["metadata"]:
                meta[key] = old["metadata"][key]
        meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        new = admission.default(kind, new, self._lookup)
        admission.validate(kind, new, old)
        fieldmanager.record_update(kind, old, new, manager)
        updated = self._store(kind, new, old, dry_run)
        if not dry_run:
            deletion.finish_if_unblocked(self.store, kind, updated)
        return updated

    def _store(self, kind: Kind, new: dict, old: dict, dry_run: bool) -> dict:
        return self.store.preview_update(kind, new, old) if dry_run else self.store.update(kind, new, old)

    # --- deletion ----------------------------------------------------------------------------

    def delete(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        policy: str | None,
        grace: int | None = None,
        precondition_rv: str | None = None,
        write: Write | None = None,
    ) -> dict:
        """DELETE with Foreground, Background or Orphan propagation; pods terminate gracefully."""
        obj = self.get(kind, namespace, name)
        if precondition_rv and precondition_rv != obj["metadata"]["resourceVersion"]:
            raise conflict(kind, name)
        policy = policy or ("Orphan" if kind.kind in _ORPHAN_BY_DEFAULT else "Background")
        if policy not in ("Foreground", "Background", "Orphan"):
            raise bad_request(f"propagationPolicy: Unsupported value: {policy!r}")
        if write is not None and write.dry_run:
            return deletion.deleted(kind, obj, policy, grace) or clone(obj)
        return self.mark_deleted(kind, obj, policy, grace)

    def mark_deleted(self, kind: Kind, obj: dict, policy: str, grace: int | None = None) -> dict:
        """Start deleting an object; used by clients and by the garbage collector alike."""
        return deletion.mark(self.store, kind, obj, policy, grace)

    def remove_finalizer(self, kind: Kind, obj: dict, finalizer: str) -> None:
        deletion.remove_finalizer(self.store, kind, obj, finalizer)


def patched(old: dict, body, ctype: str) -> dict:
    if ctype == "application/merge-patch+json":
        return patching.merge_patch(old, body)
    if ctype == "application/strategic-merge-patch+json":
        return patching.strategic_merge(old, body)
    if ctype == "application/json-patch+json":
        if not isinstance(body, list):
            raise bad_request("json patch body must be a list of operations")
        return patching.json_patch(old, body)
    raise unsupported_media(ctype)


def _check_version(kind: Kind, name: str, body, old: dict, put: bool = False) -> None:
    """Optimistic concurrency: a resourceVersion in the body must be the stored one. A PUT without
    one is an unconditional update, which Leases refuse (what makes leader election safe)."""
    wanted = (body.get("metadata") or {}).get("resourceVersion") if isinstance(body, dict) else None
    if put and not wanted and kind.kind in _CONDITIONAL_UPDATES_ONLY:
        raise unconditional_update(kind, name)
    if wanted and wanted != old["metadata"]["resourceVersion"]:
        raise conflict(kind, name)


def _keep_status(new: dict, old: dict) -> None:
    """Writes to the main resource never change status (the status subresource does)."""
    new.pop("status", None)
    if old.get("status") is not None:
        new["status"] = clone(old["status"])


__all__ = ["ApiServer", "ApiError", "Write", "random_suffix"]

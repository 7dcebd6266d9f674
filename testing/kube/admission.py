"""What the API server does to an object before storing it: defaulting, then strict validation.

Schema validation is kubernetes-validate in strict mode (unknown fields were dropped or refused
before, see unknown_fields.py); the semantic rules the schema cannot express are in validation.py.
"""

from __future__ import annotations

import functools
import uuid

import kubernetes_validate
import kubernetes_validate.utils

from . import microtime, unknown_fields, validation
from .kinds import Kind
from .statuses import ApiError, invalid
from .store import clone
from .validation import DNS1123_LABEL, DNS1123_SUBDOMAIN  # noqa: F401 (re-exported for tests)

SCHEMA_VERSION = "1.35"
# kubernetes-validate re-reads and re-parses its 1.5 MB schema files on every call (about 20 ms).
# The files never change, so remember them: the same validation, eight times faster.
if not hasattr(kubernetes_validate.utils.schema_contents, "cache_info"):
    kubernetes_validate.utils.schema_contents = functools.lru_cache(maxsize=64)(
        kubernetes_validate.utils.schema_contents
    )


def validate_schema(kind: Kind, obj: dict) -> None:
    """kubernetes-validate, strict: anything the schema does not know is refused with 422."""
    name = obj.get("metadata", {}).get("name", "")
    try:
        kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)
    except kubernetes_validate.ValidationError as err:
        field = unknown_fields.dotted(tuple(err.absolute_path)) or "<root>"
        reason = {
            "required": "FieldValueRequired",
            "enum": "FieldValueNotSupported",
            "additionalProperties": "FieldValueInvalid",
        }.get(str(err.validator), "FieldValueInvalid")
        raise invalid(kind, name, [(reason, field, err.message)]) from None


def validate(kind: Kind, obj: dict, old: dict | None) -> None:
    """The name, then the schema (types), then the semantic checks (validation.py)."""
    name = obj.get("metadata", {}).get("name", "")
    causes = validation.name_causes(kind, obj)
    if causes:
        raise invalid(kind, name, causes)
    validate_schema(kind, obj)
    causes = validation.spec_causes(kind, obj) + (validation.immutable_causes(kind, obj, old) if old else [])
    if causes:
        raise invalid(kind, name, causes)


# --- defaulting ------------------------------------------------------------------------------


def default(kind: Kind, obj: dict, store_lookup) -> dict:
    """The API server's defaulting for the kinds the controllers care about (and MicroTimes in their
    stored form, as decoding leaves them)."""
    obj = clone(obj)
    microtime.normalize(kind, obj)
    spec = obj.get("spec")
    if kind.kind == "Deployment" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            strategy["type"] = "RollingUpdate"
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxSurge", "25%")
            rolling.setdefault("maxUnavailable", "25%")
        _default_pod_spec(((spec.get("template") or {}).get("spec")), "Always")
    elif kind.kind == "ReplicaSet" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
    elif kind.kind == "Job" and isinstance(spec, dict):
        _default_job(obj, spec)
    elif kind.kind == "Pod" and isinstance(spec, dict):
        _default_pod_spec(spec, "Always")
    elif kind.kind == "PersistentVolumeClaim" and isinstance(spec, dict):
        spec.setdefault("volumeMode", "Filesystem")
        if "storageClassName" not in spec:
            default_class = store_lookup("default-storage-class")
            if default_class:
                spec["storageClassName"] = default_class
    elif kind.kind == "StorageClass":
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")
    return obj


def _default_job(obj: dict, spec: dict) -> None:
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completions", 1)
    spec.setdefault("parallelism", 1)
    uid = obj["metadata"].setdefault("uid", str(uuid.uuid4()))
    name = obj["metadata"].get("name", "")
    generated = {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": name,
        "controller-uid": uid,
        "job-name": name,
    }
    if not spec.get("manualSelector"):
        spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
        template = spec.setdefault("template", {})
        labels = template.setdefault("metadata", {}).setdefault("labels", {})
        for key, value in generated.items():
            labels.setdefault(key, value)
    _default_pod_spec((spec.get("template") or {}).get("spec"), None)


def _default_pod_spec(spec: dict | None, restart_policy: str | None) -> None:
    if not isinstance(spec, dict):
        return
    if restart_policy:
        spec.setdefault("restartPolicy", restart_policy)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    for container in spec.get("containers") or []:
        image = container.get("image", "")
        untagged_or_latest = ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
        container.setdefault(
            "imagePullPolicy", "Always" if untagged_or_latest and "@" not in image else "IfNotPresent"
        )
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})
        for port in container.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")


def refuse_kind_mismatch(kind: Kind, obj: dict) -> None:
    """The body must be an object, and its apiVersion/kind must name the resource the URL names."""
    if not isinstance(obj, dict):
        raise ApiError(
            400,
            "BadRequest",
            f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
            f"json: cannot unmarshal {type(obj).__name__} into Go value of type struct",
        )
    if (
        obj.get("kind")
        and obj.get("kind") != kind.kind
        or obj.get("apiVersion")
        and obj.get("apiVersion") != kind.api_version
    ):
        raise ApiError(
            400,
            "BadRequest",
            f"the API version in the data ({obj.get('apiVersion')}) does not match "
            f"the expected API version ({kind.api_version})",
        )

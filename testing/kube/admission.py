"""What the API server does to an object before storing it: defaulting, then strict validation.

Schema validation is kubernetes-validate in strict mode (unknown fields are errors); a few semantic
rules the schema cannot express (names, selectors, immutable fields) are checked here as the API
server's validation code checks them.
"""

from __future__ import annotations

import functools
import re
import uuid

import kubernetes_validate
import kubernetes_validate.utils

from .kinds import Kind
from .statuses import ApiError, invalid
from .store import clone

SCHEMA_VERSION = "1.35"
# kubernetes-validate re-reads and re-parses its 1.5 MB schema files on every call (about 20 ms).
# The files never change, so remember them: the same validation, eight times faster.
if not hasattr(kubernetes_validate.utils.schema_contents, "cache_info"):
    kubernetes_validate.utils.schema_contents = functools.lru_cache(maxsize=64)(
        kubernetes_validate.utils.schema_contents
    )
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_NAMES = {"Namespace", "Service"}


def validate_schema(kind: Kind, obj: dict) -> None:
    """kubernetes-validate, strict: anything the schema does not know is refused with 422."""
    name = obj.get("metadata", {}).get("name", "")
    try:
        kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)
    except kubernetes_validate.ValidationError as err:
        field = ".".join(str(p) for p in err.absolute_path) or "<root>"
        reason = {
            "required": "FieldValueRequired",
            "enum": "FieldValueNotSupported",
            "additionalProperties": "FieldValueInvalid",
        }.get(str(err.validator), "FieldValueInvalid")
        raise invalid(kind, name, [(reason, field, err.message)]) from None


def validate(kind: Kind, obj: dict, old: dict | None) -> None:
    """The schema (types, unknown fields), then the semantic checks."""
    causes = _name_causes(kind, obj)
    if causes:
        raise invalid(kind, obj.get("metadata", {}).get("name", ""), causes)
    validate_schema(kind, obj)
    causes = _spec_causes(kind, obj) + (_immutable_causes(kind, obj, old) if old else [])
    if causes:
        raise invalid(kind, obj.get("metadata", {}).get("name", ""), causes)


def _name_causes(kind: Kind, obj: dict) -> list:
    name = obj.get("metadata", {}).get("name", "")
    pattern, limit = (DNS1123_LABEL, 63) if kind.kind in LABEL_NAMES else (DNS1123_SUBDOMAIN, 253)
    if not name:
        return [("FieldValueRequired", "metadata.name", "Required value: name or generateName is required")]
    if len(name) > limit or not pattern.match(name):
        return [
            (
                "FieldValueInvalid",
                "metadata.name",
                f'Invalid value: "{name}": a lowercase RFC 1123 name must consist of lower case alphanumeric '
                "characters or '-', and must start and end with an alphanumeric character",
            )
        ]
    return []


def _pod_spec_causes(spec: dict, prefix: str) -> list:
    causes = []
    volumes = {v.get("name") for v in spec.get("volumes") or []}
    for i, container in enumerate(spec.get("containers") or []):
        if not DNS1123_LABEL.match(container.get("name", "")):
            causes.append(
                (
                    "FieldValueInvalid",
                    f"{prefix}.containers[{i}].name",
                    f'Invalid value: "{container.get("name")}": must be a DNS-1123 label',
                )
            )
        for j, mount in enumerate(container.get("volumeMounts") or []):
            if mount.get("name") not in volumes:
                causes.append(
                    (
                        "FieldValueNotFound",
                        f"{prefix}.containers[{i}].volumeMounts[{j}].name",
                        f'Not found: "{mount.get("name")}"',
                    )
                )
    if not spec.get("containers"):
        causes.append(("FieldValueRequired", f"{prefix}.containers", "Required value"))
    return causes


def _spec_causes(kind: Kind, obj: dict) -> list:
    spec = obj.get("spec") or {}
    if kind.kind in ("Deployment", "ReplicaSet"):
        return _workload_causes(spec)
    if kind.kind == "Job":
        template = (spec.get("template") or {}).get("spec") or {}
        causes = _pod_spec_causes(template, "spec.template.spec")
        if template.get("restartPolicy") not in ("Never", "OnFailure"):
            causes.append(
                (
                    "FieldValueRequired",
                    "spec.template.spec.restartPolicy",
                    'Required value: valid values: "OnFailure", "Never"',
                )
            )
        return causes
    if kind.kind == "Pod":
        return _pod_spec_causes(spec, "spec")
    if kind.kind == "PersistentVolumeClaim":
        if not ((spec.get("resources") or {}).get("requests") or {}).get("storage"):
            return [("FieldValueRequired", "spec.resources[storage]", "Required value")]
        if not spec.get("accessModes"):
            return [
                (
                    "FieldValueRequired",
                    "spec.accessModes",
                    "Required value: at least 1 access mode is required",
                )
            ]
    return []


def _workload_causes(spec: dict) -> list:
    template = spec.get("template") or {}
    causes = _pod_spec_causes(template.get("spec") or {}, "spec.template.spec")
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        causes.append(
            (
                "FieldValueInvalid",
                "spec.template.metadata.labels",
                f"Invalid value: {labels}: `selector` does not match template `labels`",
            )
        )
    if (spec.get("replicas") or 0) < 0:
        causes.append(
            ("FieldValueInvalid", "spec.replicas", "Invalid value: must be greater than or equal to 0")
        )
    return causes


def _immutable_causes(kind: Kind, obj: dict, old: dict) -> list:
    spec, before = obj.get("spec") or {}, old.get("spec") or {}
    fields = {
        "Deployment": ["selector"],
        "ReplicaSet": ["selector"],
        "Job": ["selector", "template"],
        "StorageClass": [],
        "PersistentVolumeClaim": ["storageClassName", "accessModes", "volumeMode"],
    }
    causes = [
        ("FieldValueInvalid", f"spec.{f}", "field is immutable")
        for f in fields.get(kind.kind, [])
        if f in before and spec.get(f) != before.get(f)
    ]
    if kind.kind == "StorageClass":
        for f in ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"):
            if obj.get(f) != old.get(f):
                causes.append(("FieldValueForbidden", f, "Forbidden: updates to " + f + " are forbidden."))
    return causes


# --- defaulting ------------------------------------------------------------------------------


def default(kind: Kind, obj: dict, store_lookup) -> dict:
    """The API server's defaulting for the kinds the controllers care about."""
    obj = clone(obj)
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


def refuse_kind_mismatch(kind: Kind, obj: dict) -> None:
    """The body's apiVersion/kind must name the resource the URL names."""
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

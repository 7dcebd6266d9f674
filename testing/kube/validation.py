"""The semantic validation the schema cannot say, in the API server's words.

After pkg/apis/core/validation/validation.go (names, labels, containers, ports, resources, seccomp),
pkg/apis/apps/validation/validation.go (selectors, replicas, strategy), pkg/apis/batch/validation
(restartPolicy) and staging/src/k8s.io/apimachinery/pkg/util/validation (the messages). A cause is
(type, field, body), the body worded as field.Error.ErrorBody words it: `Invalid value: 70000: must be
between 1 and 65535, inclusive` — strings quoted, numbers bare, maps as Go prints them.
"""

from __future__ import annotations

import json
import re

from . import quantity
from .kinds import Kind

Cause = tuple[str, str, str]
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAMES = {"Namespace", "Service"}
RFC1123 = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def go_value(value: object) -> str:
    """A bad value as ErrorBody prints it: %q for strings, %v for numbers, %#v for string maps."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(value.items()))
        return "map[string]string{" + inner + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def invalid(field: str, value: object, detail: str) -> Cause:
    return ("FieldValueInvalid", field, f"Invalid value: {go_value(value)}: {detail}")


def required(field: str, detail: str = "") -> Cause:
    return ("FieldValueRequired", field, "Required value" + (f": {detail}" if detail else ""))


def forbidden(field: str, detail: str) -> Cause:
    return ("FieldValueForbidden", field, f"Forbidden: {detail}")


def name_causes(kind: Kind, obj: dict) -> list[Cause]:
    name = obj.get("metadata", {}).get("name", "")
    pattern, limit = (DNS1123_LABEL, 63) if kind.kind in LABEL_NAMES else (DNS1123_SUBDOMAIN, 253)
    if not name:
        return [required("metadata.name", "name or generateName is required")]
    if len(name) > limit or not pattern.match(name):
        return [
            invalid(
                "metadata.name",
                name,
                "a lowercase RFC 1123 name must consist of lower case alphanumeric characters or '-', "
                "and must start and end with an alphanumeric character",
            )
        ]
    return []


def label_causes(labels: dict | None, field: str) -> list[Cause]:
    """ValidateLabels: each value at most 63 characters of the label alphabet."""
    causes = []
    for value in (labels or {}).values():
        if not isinstance(value, str):
            continue
        if len(value) > 63:
            causes.append(invalid(field, value, "must be no more than 63 characters"))
        if not LABEL_VALUE.match(value):
            causes.append(
                invalid(
                    field,
                    value,
                    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
                    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
                    "'my_value',  or '12345', regex used for validation is "
                    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                )
            )
    return causes


def _seccomp_causes(context: dict | None, field: str) -> list[Cause]:
    profile = (context or {}).get("seccompProfile") or {}
    path = f"{field}.seccompProfile.localhostProfile"
    if profile.get("type") == "Localhost" and not profile.get("localhostProfile"):
        return [required(path, "must be set when seccomp type is Localhost")]
    if profile.get("type") not in (None, "Localhost") and profile.get("localhostProfile"):
        return [invalid(path, profile["localhostProfile"], "can only be set when seccomp type is Localhost")]
    return []


def _container_causes(c: dict, path: str, volumes: set) -> list[Cause]:
    causes = []
    if not DNS1123_LABEL.match(c.get("name", "")):
        causes.append(invalid(f"{path}.name", c.get("name", ""), RFC1123))
    for j, mount in enumerate(c.get("volumeMounts") or []):
        if mount.get("name") not in volumes:
            causes.append(
                (
                    "FieldValueNotFound",
                    f"{path}.volumeMounts[{j}].name",
                    f"Not found: {go_value(mount.get('name'))}",
                )
            )
    for j, port in enumerate(c.get("ports") or []):
        number = port.get("containerPort")
        if isinstance(number, int) and not 1 <= number <= 65535:
            causes.append(
                invalid(f"{path}.ports[{j}].containerPort", number, "must be between 1 and 65535, inclusive")
            )
    resources = c.get("resources") or {}
    limits = resources.get("limits") or {}
    for resource, request in (resources.get("requests") or {}).items():
        if resource in limits and quantity.parse(request) > quantity.parse(limits[resource]):
            detail = f"must be less than or equal to {resource} limit of {limits[resource]}"
            causes.append(invalid(f"{path}.resources.requests", request, detail))
    return causes + _seccomp_causes(c.get("securityContext"), f"{path}.securityContext")


def pod_spec_causes(spec: dict, prefix: str) -> list[Cause]:
    volumes = {v.get("name") for v in spec.get("volumes") or []}
    causes = []
    for section in ("initContainers", "containers"):
        for i, container in enumerate(spec.get(section) or []):
            causes += _container_causes(container, f"{prefix}.{section}[{i}]", volumes)
    if not spec.get("containers"):
        causes.append(required(f"{prefix}.containers"))
    return causes + _seccomp_causes(spec.get("securityContext"), f"{prefix}.securityContext")


def spec_causes(kind: Kind, obj: dict) -> list[Cause]:
    causes = label_causes(obj.get("metadata", {}).get("labels"), "metadata.labels")
    spec = obj.get("spec") or {}
    if kind.kind in ("Deployment", "ReplicaSet"):
        return causes + workload_causes(spec)
    if kind.kind == "Job":
        template = (spec.get("template") or {}).get("spec") or {}
        causes += pod_spec_causes(template, "spec.template.spec")
        if template.get("restartPolicy") not in ("Never", "OnFailure"):
            detail = 'valid values: "OnFailure", "Never"'
            causes.append(required("spec.template.spec.restartPolicy", detail))
        return causes
    if kind.kind == "Pod":
        return causes + pod_spec_causes(spec, "spec")
    if kind.kind == "PersistentVolumeClaim":
        if not ((spec.get("resources") or {}).get("requests") or {}).get("storage"):
            return causes + [required("spec.resources[storage]")]
        if not spec.get("accessModes"):
            return causes + [required("spec.accessModes", "at least 1 access mode is required")]
    return causes


def workload_causes(spec: dict) -> list[Cause]:
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    causes = label_causes(labels, "spec.template.metadata.labels")
    causes += pod_spec_causes(template.get("spec") or {}, "spec.template.spec")
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        causes.append(
            invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`")
        )
    if (spec.get("replicas") or 0) < 0:
        causes.append(invalid("spec.replicas", spec["replicas"], "must be greater than or equal to 0"))
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate" and strategy.get("rollingUpdate") is not None:
        detail = "may not be specified when strategy `type` is 'Recreate'"
        causes.append(forbidden("spec.strategy.rollingUpdate", detail))
    rolling = strategy.get("rollingUpdate") or {}
    if strategy.get("type", "RollingUpdate") == "RollingUpdate" and rolling:
        if str(rolling.get("maxSurge")) in ("0", "0%") and str(rolling.get("maxUnavailable")) in ("0", "0%"):
            detail = "may not be 0 when `maxSurge` is 0"
            causes.append(
                invalid("spec.strategy.rollingUpdate.maxUnavailable", rolling["maxUnavailable"], detail)
            )
    return causes


def immutable_causes(kind: Kind, obj: dict, old: dict) -> list[Cause]:
    spec, before = obj.get("spec") or {}, old.get("spec") or {}
    fields = {
        "Deployment": ["selector"],
        "ReplicaSet": ["selector"],
        "Job": ["selector", "template"],
        "PersistentVolumeClaim": ["storageClassName", "accessModes", "volumeMode"],
    }
    causes: list[Cause] = [
        ("FieldValueInvalid", f"spec.{f}", "field is immutable")
        for f in fields.get(kind.kind, [])
        if f in before and spec.get(f) != before.get(f)
    ]
    if kind.kind == "StorageClass":
        for f in ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"):
            if obj.get(f) != old.get(f):
                causes.append(forbidden(f, f"updates to {f} are forbidden."))
    return causes

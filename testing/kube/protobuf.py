"""Protobuf request bodies, as kubectl's typed commands send them (`kubectl create namespace`,
`create configmap`, `create deployment`, `auth can-i`): decoded into the JSON the rest of the fake
reads.

The envelope is staging/src/k8s.io/apimachinery/pkg/runtime/serializer/protobuf: the magic `k8s\\0`,
then a runtime.Unknown (typeMeta {apiVersion, kind}, raw) whose raw bytes are the object in the
wire format of staging/src/k8s.io/api/*/generated.proto. The fake knows the field numbers of the
messages those commands use (below); anything else is a 415 that says so. Empty strings, zero
numbers and false are what Go's omitempty leaves out of JSON, so they are left out here too, except
in the pointer fields where a zero is a value (replicas). Answers are JSON: kubectl accepts it.
"""

from __future__ import annotations

import base64

from .statuses import ApiError

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
Field = tuple[
    str, str
]  # (json name, type): string, int, bool, time, map, bytesmap, qmap, msg:X, [msg:X], [string]

META = {
    1: ("name", "string"),
    2: ("generateName", "string"),
    3: ("namespace", "string"),
    4: ("selfLink", "skip"),
    5: ("uid", "string"),
    6: ("resourceVersion", "string"),
    7: ("generation", "int"),
    8: ("creationTimestamp", "time"),
    9: ("deletionTimestamp", "time"),
    10: ("deletionGracePeriodSeconds", "skip"),
    11: ("labels", "map"),
    12: ("annotations", "map"),
    14: ("finalizers", "[string]"),
    17: ("managedFields", "skip"),
}
MESSAGES: dict[str, dict[int, Field]] = {
    "Unknown": {
        1: ("typeMeta", "msg:TypeMeta"),
        2: ("raw", "raw"),
        3: ("contentEncoding", "string"),
        4: ("contentType", "string"),
    },
    "TypeMeta": {1: ("apiVersion", "string"), 2: ("kind", "string")},
    "ObjectMeta": META,
    "Namespace": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:NamespaceSpec"), 3: ("status", "skip")},
    "NamespaceSpec": {1: ("finalizers", "[string]")},
    "ConfigMap": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("data", "map"),
        3: ("binaryData", "bytesmap"),
        4: ("immutable", "bool"),
    },
    "Deployment": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("spec", "msg:DeploymentSpec"),
        3: ("status", "skip"),
    },
    "DeploymentSpec": {
        1: ("replicas", "int*"),
        2: ("selector", "msg:LabelSelector"),
        3: ("template", "msg:PodTemplateSpec"),
        4: ("strategy", "msg:DeploymentStrategy"),
        5: ("minReadySeconds", "int"),
        6: ("revisionHistoryLimit", "int*"),
        7: ("paused", "bool"),
        9: ("progressDeadlineSeconds", "int*"),
    },
    "DeploymentStrategy": {1: ("type", "string")},
    "LabelSelector": {1: ("matchLabels", "map")},
    "PodTemplateSpec": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:PodSpec")},
    "PodSpec": {
        2: ("containers", "[msg:Container]"),
        3: ("restartPolicy", "string"),
        4: ("terminationGracePeriodSeconds", "int*"),
        6: ("dnsPolicy", "string"),
        8: ("serviceAccountName", "string"),
        9: ("serviceAccount", "string"),
        10: ("nodeName", "string"),
        11: ("hostNetwork", "bool"),
        12: ("hostPID", "bool"),
        13: ("hostIPC", "bool"),
        16: ("hostname", "string"),
        17: ("subdomain", "string"),
        19: ("schedulerName", "string"),
        24: ("priorityClassName", "string"),
    },
    "Container": {
        1: ("name", "string"),
        2: ("image", "string"),
        3: ("command", "[string]"),
        4: ("args", "[string]"),
        5: ("workingDir", "string"),
        6: ("ports", "[msg:ContainerPort]"),
        8: ("resources", "msg:ResourceRequirements"),
        13: ("terminationMessagePath", "string"),
        14: ("imagePullPolicy", "string"),
        16: ("stdin", "bool"),
        17: ("stdinOnce", "bool"),
        18: ("tty", "bool"),
        20: ("terminationMessagePolicy", "string"),
    },
    "ContainerPort": {
        1: ("name", "string"),
        2: ("hostPort", "int"),
        3: ("containerPort", "int"),
        4: ("protocol", "string"),
        5: ("hostIP", "string"),
    },
    "ResourceRequirements": {1: ("limits", "qmap"), 2: ("requests", "qmap")},
    # `kubectl auth can-i` (staging/src/k8s.io/api/authorization/v1/generated.proto)
    "SelfSubjectAccessReview": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("spec", "msg:SSARSpec"),
        3: ("status", "skip"),
    },
    "SSARSpec": {
        1: ("resourceAttributes", "msg:ResourceAttributes"),
        2: ("nonResourceAttributes", "msg:NonResource"),
    },
    "ResourceAttributes": {
        1: ("namespace", "string"),
        2: ("verb", "string"),
        3: ("group", "string"),
        4: ("version", "string"),
        5: ("resource", "string"),
        6: ("subresource", "string"),
        7: ("name", "string"),
    },
    "NonResource": {1: ("path", "string"), 2: ("verb", "string")},
}
KINDS = ("Namespace", "ConfigMap", "Deployment", "SelfSubjectAccessReview")


def unsupported(why: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the fake decodes protobuf bodies of {', '.join(KINDS)} only: {why}",
    )


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data):
            raise unsupported("truncated varint")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, at
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """The (field number, value) pairs of one message: varints as ints, length-delimited as bytes."""
    out: list[tuple[int, int | bytes]] = []
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
            out.append((number, value))
        elif wire == 2:
            size, at = _varint(data, at)
            out.append((number, data[at : at + size]))
            at += size
        else:
            raise unsupported(f"wire type {wire} of field {number}")
    return out


def _entry(raw: bytes) -> tuple[str, bytes]:
    parts = dict(_fields(raw))
    key, value = parts.get(1, b""), parts.get(2, b"")
    return (key.decode() if isinstance(key, bytes) else ""), (value if isinstance(value, bytes) else b"")


def decode_message(name: str, data: bytes) -> dict:
    schema, obj = MESSAGES[name], {}
    for number, value in _fields(data):
        if number not in schema:
            raise unsupported(f"field {number} of {name}")
        key, kind = schema[number]
        _put(obj, key, kind, value)
    return obj


def _put(obj: dict, key: str, kind: str, value: int | bytes) -> None:
    if kind in ("skip", "time"):  # status and timestamps are the server's own
        return
    if isinstance(value, int):
        if value or kind == "int*":
            obj[key] = bool(value) if kind == "bool" else value
        return
    if kind == "raw":
        obj[key] = value
    elif kind == "string":
        if value:
            obj[key] = value.decode()
    elif kind in ("map", "bytesmap", "qmap"):
        entry_key, entry = _entry(value)
        if kind == "bytesmap":
            text = base64.b64encode(entry).decode()
        elif kind == "qmap":  # a resource.Quantity is a message holding its string as field 1
            quantity = dict(_fields(entry)).get(1, b"")
            text = quantity.decode() if isinstance(quantity, bytes) else ""
        else:
            text = entry.decode()
        obj.setdefault(key, {})[entry_key] = text
    elif kind == "[string]":
        obj.setdefault(key, []).append(value.decode())
    elif kind.startswith("[msg:"):
        obj.setdefault(key, []).append(decode_message(kind[5:-1], value))
    elif kind.startswith("msg:"):
        obj[key] = decode_message(kind[4:], value)


def decode(body: bytes) -> dict:
    """A request body in the protobuf envelope, as the JSON object it stands for."""
    if not body.startswith(MAGIC):
        raise unsupported("no k8s protobuf envelope")
    unknown = decode_message("Unknown", body[len(MAGIC) :])
    type_meta = unknown.get("typeMeta") or {}
    kind = type_meta.get("kind", "")
    if kind not in KINDS:
        raise unsupported(f"kind {kind or '(none)'}")
    obj = decode_message(kind, unknown.get("raw", b""))
    return {"apiVersion": type_meta.get("apiVersion"), "kind": kind, **obj}

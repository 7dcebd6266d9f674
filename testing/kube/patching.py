"""JSON merge patch, strategic merge patch, JSON patch, and server-side apply field ownership.

Strategic merge and apply need to know which lists merge by key; the table below holds the keys the
Kubernetes OpenAPI schema declares (`x-kubernetes-patch-merge-key`) for the fields this fake serves.
"""

from __future__ import annotations

import json
from typing import Any

from .statuses import ApiError
from .store import clone

MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "env": "name",
    "conditions": "type",
    "imagePullSecrets": "name",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
}


def _merge_key(field: str, items: list) -> str | None:
    if field == "ports":  # containerPort in containers, port in services
        sample = next((i for i in items if isinstance(i, dict)), {})
        return "containerPort" if "containerPort" in sample else "port"
    return MERGE_KEYS.get(field)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge recursively, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return clone(patch)
    result = clone(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge(target: Any, patch: Any, field: str = "") -> Any:
    """Strategic merge patch: like merge patch, but keyed lists merge element by element."""
    if isinstance(patch, dict):
        if patch.get("$patch") == "replace":
            return {k: clone(v) for k, v in patch.items() if k != "$patch"}
        result = clone(target) if isinstance(target, dict) else {}
        for key, value in patch.items():
            if key.startswith("$"):  # $setElementOrder, $retainKeys: ordering hints only
                continue
            if value is None:
                result.pop(key, None)
            else:
                result[key] = strategic_merge(result.get(key), value, key)
        return result
    if isinstance(patch, list):
        key = _merge_key(field, patch)
        if key and isinstance(target, list):
            return _merge_keyed_list(target, patch, key)
    return clone(patch)


def _merge_keyed_list(target: list, patch: list, key: str) -> list:
    result = clone(target)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            continue
        index = next(
            (i for i, t in enumerate(result) if isinstance(t, dict) and t.get(key) == item[key]), None
        )
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
        elif index is None:
            result.append({k: v for k, v in item.items() if not k.startswith("$")})
        else:
            result[index] = strategic_merge(result[index], item)
    return result


def json_patch(target: dict, ops: list) -> dict:
    """RFC 6902 with the operations clients send: add, remove, replace, test."""
    doc = clone(target)
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op.get("path", "").split("/")[1:]]
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.get(part)
            if parent is None:
                raise ApiError(422, "Invalid", f"jsonpatch: path {op.get('path')} does not exist")
        last = parts[-1] if parts else ""
        kind = op.get("op")
        if kind == "test":
            current = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if current != op.get("value"):
                raise ApiError(422, "Invalid", f"jsonpatch test operation does not apply at {op.get('path')}")
        elif kind == "remove":
            parent.pop(int(last) if isinstance(parent, list) else last)
        elif kind in ("add", "replace"):
            if isinstance(parent, list):
                idx = len(parent) if last == "-" else int(last)
                parent.insert(idx, op["value"]) if kind == "add" else parent.__setitem__(idx, op["value"])
            else:
                parent[last] = clone(op["value"])
        else:
            raise ApiError(422, "Invalid", f"jsonpatch: unsupported operation {kind!r}")
    return doc


# --- server-side apply ownership -------------------------------------------------------------

Path = tuple[str, ...]


def field_paths(obj: Any, field: str = "", prefix: Path = ()) -> set[Path]:
    """Leaf paths of an object in fieldsV1 spelling: f:<field>, k:<merge key json> for keyed list items."""
    paths: set[Path] = set()
    if isinstance(obj, dict) and obj:
        for key, value in obj.items():
            paths |= field_paths(value, key, prefix + (f"f:{key}",))
    elif isinstance(obj, list) and obj and (key := _merge_key(field, obj)):
        for item in obj:
            if isinstance(item, dict) and key in item:
                item_path = prefix + ("k:" + json.dumps({key: item[key]}, separators=(",", ":")),)
                paths.add(item_path + (".",))
                paths |= field_paths(item, "", item_path)
    else:
        paths.add(prefix)
    return paths


def fields_v1(paths: set[Path]) -> dict:
    """Paths back into the nested fieldsV1 map stored in managedFields."""
    tree: dict = {}
    for path in paths:
        node = tree
        for token in path:
            node = node.setdefault(token, {})
    return tree


def paths_of(fields: dict, prefix: Path = ()) -> set[Path]:
    """The leaf paths a fieldsV1 map holds."""
    if not fields:
        return {prefix} if prefix else set()
    paths: set[Path] = set()
    for token, child in fields.items():
        paths |= paths_of(child, prefix + (token,))
    return paths


def value_at(obj: Any, path: Path) -> Any:
    """The value at a fieldsV1 path, or a sentinel string when absent."""
    node = obj
    for token in path:
        if token == ".":
            return node
        node = _step(node, token)
        if node is _MISSING:
            return _MISSING
    return node


_MISSING = object()


def _step(node: Any, token: str) -> Any:
    if token.startswith("f:") and isinstance(node, dict):
        return node.get(token[2:], _MISSING)
    if token.startswith("k:") and isinstance(node, list):
        want = json.loads(token[2:])
        return next(
            (i for i in node if isinstance(i, dict) and all(i.get(k) == v for k, v in want.items())), _MISSING
        )
    return _MISSING


def remove_path(obj: Any, path: Path) -> None:
    """Delete the field (or the keyed list element, for a `.` path) at a fieldsV1 path, then drop the
    maps it leaves empty, as the API server's omitempty serialization would."""
    if path and path[-1] == ".":
        path = path[:-1]
    chain = [obj]
    for token in path[:-1]:
        chain.append(_step(chain[-1], token))
        if chain[-1] is _MISSING:
            return
    for depth in range(len(path) - 1, -1, -1):
        parent, last = chain[depth], path[depth]
        if depth < len(path) - 1 and chain[depth + 1] not in ({}, []):
            break
        if last.startswith("f:") and isinstance(parent, dict):
            parent.pop(last[2:], None)
        elif last.startswith("k:") and isinstance(parent, list):
            element = _step(parent, last)
            if element is not _MISSING:
                parent.remove(element)


def changed_paths(old: dict, new: dict) -> set[Path]:
    """Leaf paths of `new` whose value differs from `old`: what an Update operation took ownership of."""
    return {p for p in field_paths(new) if value_at(old, p) != value_at(new, p)}

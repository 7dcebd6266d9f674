"""managedFields bookkeeping: who owns which field, apply conflicts, and removal of dropped fields."""

from __future__ import annotations

import json

from .kinds import Kind
from .patching import (
    Path,
    changed_paths,
    field_paths,
    fields_v1,
    paths_of,
    remove_path,
    strategic_merge,
    value_at,
)
from .statuses import apply_conflict
from .store import clone, now_rfc3339

# Identity and server-owned fields are never owned by a manager.
_UNOWNED = {
    ("f:apiVersion",),
    ("f:kind",),
    ("f:metadata", "f:name"),
    ("f:metadata", "f:namespace"),
    ("f:metadata", "f:resourceVersion"),
    ("f:metadata", "f:uid"),
    ("f:metadata", "f:managedFields"),
}


def _owned(obj: dict) -> set[Path]:
    return {
        p for p in field_paths(obj) if p[:1] != ("f:status",) and not any(p[: len(u)] == u for u in _UNOWNED)
    }


def _entries(obj: dict | None) -> list[dict]:
    return clone((obj or {}).get("metadata", {}).get("managedFields") or [])


def _entry(manager: str, operation: str, api_version: str, paths: set[Path], time: str | None = None) -> dict:
    return {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": time or now_rfc3339(),
        "fieldsType": "FieldsV1",
        "fieldsV1": fields_v1(paths),
    }


def _show(path: Path) -> str:
    """A fieldsV1 path as structured-merge-diff prints it: `.spec.containers[name="app"].image`."""
    text = ""
    for token in path:
        if token.startswith("f:"):
            text += "." + token[2:]
        elif token.startswith("k:"):
            keys = json.loads(token[2:])
            text += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in keys.items()) + "]"
    return text or "."


def _manager_text(entry: dict) -> str:
    """printManager: an applier by name, an updater with the API version it wrote."""
    if entry["operation"] == "Update":
        return f'"{entry["manager"]}" using {entry["apiVersion"]}'
    return f'"{entry["manager"]}"'


def _set_entries(obj: dict, entries: list[dict]) -> None:
    """Stored in sortEncodedManagedFields' order: Apply before Update, then by time, then manager."""
    kept = [e for e in entries if e["fieldsV1"]]
    obj["metadata"]["managedFields"] = sorted(
        kept, key=lambda e: (e["operation"], e.get("time") or "", e["manager"], e["apiVersion"])
    )


def apply(kind: Kind, live: dict | None, applied: dict, manager: str, force: bool) -> dict:
    """Server-side apply of `applied` by `manager` onto `live` (None: create). Returns the new object."""
    applied = clone(applied)
    applied.get("metadata", {}).pop("managedFields", None)
    new_paths = _owned(applied)
    entries = _entries(live)
    if live is None:
        obj = applied
        entries = []
    else:
        _check_conflicts(kind, live, applied, manager, new_paths, entries, force)
        obj = strategic_merge(live, applied)
        mine = next((e for e in entries if e["manager"] == manager and e["operation"] == "Apply"), None)
        previous = paths_of(mine["fieldsV1"]) if mine else set()
        others: set[Path] = set()
        for e in entries:
            if e is not mine:
                others |= paths_of(e["fieldsV1"])
        # Whole list elements first (their "." marker), so a key field is never removed from an
        # element that is about to go; then fields, deepest first.
        stale = previous - new_paths - others
        for path in sorted(stale, key=lambda p: (p[-1:] != (".",), -len(p))):
            remove_path(obj, path)
        entries = [e for e in entries if e is not mine]
    entries.append(
        _entry(
            manager, "Apply", kind.api_version, new_paths, _previous_time(live, manager, "Apply", new_paths)
        )
    )
    _set_entries(obj, entries)
    return obj


def _previous_time(live: dict | None, manager: str, operation: str, paths: set[Path]) -> str | None:
    """An entry whose fields did not change keeps its time, so a no-op write stays a no-op (no new
    resourceVersion), as the managed fields updater only stamps a manager whose fields changed."""
    for e in _entries(live):
        if e["manager"] == manager and e["operation"] == operation and paths_of(e["fieldsV1"]) == paths:
            return e.get("time")
    return None


def _check_conflicts(
    kind: Kind,
    live: dict,
    applied: dict,
    manager: str,
    new_paths: set[Path],
    entries: list[dict],
    force: bool,
) -> None:
    conflicts: list[tuple[str, str]] = []
    for entry in entries:
        if entry["manager"] == manager and entry["operation"] == "Apply":
            continue
        theirs = paths_of(entry["fieldsV1"])
        # Only leaf values conflict; a list element's "." marker is shared by whoever sets fields in it.
        clashing = {
            p for p in theirs & new_paths if p[-1:] != (".",) and value_at(live, p) != value_at(applied, p)
        }
        if force:
            entry["fieldsV1"] = fields_v1(theirs - clashing)
        conflicts += [(_manager_text(entry), _show(p)) for p in sorted(clashing)]
    if conflicts and not force:
        raise apply_conflict(kind, live["metadata"]["name"], conflicts)


def record_update(kind: Kind, old: dict | None, new: dict, manager: str) -> None:
    """An Update operation (create, PUT, patch) takes ownership of the fields it changed."""
    taken = _owned(new) if old is None else {p for p in changed_paths(old, new) if p in _owned(new)}
    entries = _entries(old)
    for entry in entries:
        entry["fieldsV1"] = fields_v1(paths_of(entry["fieldsV1"]) - taken)
    mine = next((e for e in entries if e["manager"] == manager and e["operation"] == "Update"), None)
    if mine:
        entries.remove(mine)
        taken |= paths_of(mine["fieldsV1"])
    if taken:
        entries.append(
            _entry(manager, "Update", kind.api_version, taken, _previous_time(old, manager, "Update", taken))
        )
    _set_entries(new, entries)

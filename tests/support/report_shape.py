"""The key tree of report.json: which keys each section has and what kind of value each holds.

Maps whose keys are data (syscall names, file categories, denial counts) collapse to one `*` entry, so
the tree describes the file's format, not one run's findings. Recorded trees live in `data/`.
"""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

# Paths (keys joined by "."; list items as "[]") whose keys are data rather than format.
MAPS = frozenset(
    {
        "files.redundant",
        "files.redundant_bytes",
        "sizes.before_by_part",
        "sizes.removed_by_category",
        "sizes.kept_by_category",
        "trace.syscall_counts",
        "verification.enforced.denied_calls",
        "verification.enforced.eperm_returns",
        "verification.enforced.first_run_denials",
        "observability.structured_logs",
    }
)
# The session driver's own verdict: its contents are the driver's, not the report's format.
OPAQUE = frozenset({"trace.run.session", "verification.trimmed.session", "verification.enforced.run.session"})


def _kind(value: object) -> str:
    return (
        "null"
        if value is None
        else {bool: "bool", int: "number", float: "number", str: "str"}.get(type(value), type(value).__name__)
    )


def key_tree(value: object, path: str = "") -> object:
    """The shape of `value`: dicts keep their keys, lists their items' shapes, scalars their kind."""
    if path in OPAQUE:
        return "object" if isinstance(value, dict) else _kind(value)
    if isinstance(value, dict):
        if path in MAPS:
            items = [key_tree(v, f"{path}.*") for v in value.values()]
            return {"*": items[0]} if items else {}
        return {k: key_tree(v, f"{path}.{k}".lstrip(".")) for k, v in value.items()}
    if isinstance(value, list):
        shapes = {json.dumps(key_tree(v, f"{path}[]"), sort_keys=True) for v in value}
        return [json.loads(s) for s in sorted(shapes)]
    return _kind(value)


def recorded(name: str) -> object:
    return json.loads((DATA / f"{name}.json").read_text())

"""The key tree of report.json: which keys each section has and what kind of value each holds.

Maps whose keys are data (syscall names, file categories, denial counts) collapse to one `*` entry, so
the tree describes the file's format, not one run's findings. Recorded trees live in `data/`; they are
the review surface of the report's format. After a deliberate change, re-record one from a real report:

    .venv/bin/python -m tests.support.report_shape report_shape_traced OUT/report.json

(the traced tree from tests/integration/k8orize/test_examples.py's Streamlit OUT, the untraced one from
tests/integration/k8orize/test_report_shape.py's) and review the diff of data/<name>.json.
"""

from __future__ import annotations

import json
import sys
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
        "trim.levels.safe.removed_by_category",
        "trim.levels.traced.removed_by_category",
        "trace.syscall_counts",
        "verification.enforced.denied_calls",
        "verification.enforced.eperm_returns",
        "verification.enforced.first_run_denials",
        "observability.structured_logs",
        "runtime_verification[].denied_calls",
        "runtime_verification[].shipped.denials",
        "runtime_verification[].audit.denials",
    }
)
# The session driver's own verdict: its contents are the driver's, not the report's format; and the
# modules that did not import again (module -> error), empty or not depending on the run.
OPAQUE = frozenset(
    {
        "trim.reimport.failed_after_trim",
        "trim.reimport.failed_before_trim_too",
        "trace.run.session",
        "verification.trimmed.session",
        "verification.enforced.run.session",
        "runtime_verification[].shipped.run.session",
        "runtime_verification[].audit.run.session",
    }
)


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
    if isinstance(value, list):  # one entry per distinct item shape, each with its keys in report order
        shapes: dict[str, object] = {}
        for item in value:
            shape = key_tree(item, f"{path}[]")
            shapes.setdefault(json.dumps(shape, sort_keys=True), shape)
        return [shapes[key] for key in sorted(shapes)]
    return _kind(value)


def recorded(name: str) -> object:
    return json.loads((DATA / f"{name}.json").read_text())


def record(name: str, report: Path) -> Path:
    """Write the key tree of `report` (a report.json) as data/<name>.json; its path."""
    path = DATA / f"{name}.json"
    path.write_text(json.dumps(key_tree(json.loads(report.read_text())), indent=1) + "\n")
    return path


if __name__ == "__main__":
    print(record(sys.argv[1], Path(sys.argv[2])))

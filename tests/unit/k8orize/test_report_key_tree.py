"""The key tree of report.json (tests/support/report_shape.py): data-keyed maps collapse to one entry.

The recorded trees are compared with real reports in tests/integration/k8orize/test_report_shape.py
(untraced) and tests/integration/k8orize/test_examples.py (traced, the Streamlit example)."""

from __future__ import annotations

from tests.support.report_shape import key_tree


def test_the_key_tree_collapses_data_keyed_maps() -> None:
    report = {"trace": {"syscall_counts": {"read": 3, "openat": 9}}, "checks_failed": []}
    assert key_tree(report) == {"trace": {"syscall_counts": {"*": "number"}}, "checks_failed": []}

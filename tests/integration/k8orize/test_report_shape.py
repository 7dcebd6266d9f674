"""report.json keeps its format: the example app's report has the recorded key tree. The traced tree
(image built and pushed, runc verification) is checked by the slow Streamlit test, which runs the whole
pipeline on the same app; this one is the untraced report without an image (`--no-trace --no-build`),
which still renders and lints the output (hadolint, checkov), hence integration. The key tree itself is
tested in tests/unit/k8orize/test_report_key_tree.py; re-recording is in tests/support/report_shape.py."""

from __future__ import annotations

import json
from pathlib import Path

from k8orize.engine import k8orize
from k8orize.request import K8orizeRequest
from tests.support.k8orize import EXAMPLE, PROBES, RUN
from tests.support.report_shape import key_tree, recorded


def test_the_untraced_report_of_the_example_keeps_its_key_tree(tmp_path: Path) -> None:
    result = k8orize(
        K8orizeRequest(
            app_dir=EXAMPLE,
            out=tmp_path / "out",
            name="streamlit-example",
            run=RUN,
            probes=PROBES,
            trace=False,  # the same options as the traced run, without running the app...
            build=False,  # ...or building its image: the report says what that leaves unverified
        )
    )
    on_disk = json.loads(result.report_path.read_text())
    assert on_disk == result.report
    # json.dumps keeps key order, so the order of every section's keys is compared too.
    assert json.dumps(key_tree(on_disk)) == json.dumps(recorded("report_shape_untraced"))
    assert any(item.startswith("image: not built (--no-build was given)") for item in on_disk["not_verified"])

"""A judge missing from the engine's environment: the `checks` step warns (never `ok`), the report says the
judge did not run, and the summary names it with the extra that installs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8orize import checks
from k8orize.engine import k8orize
from k8orize.request import K8orizeRequest


def test_without_checkov_the_checks_step_warns_and_the_summary_names_it(
    http_app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    present = checks.find_tool
    monkeypatch.setattr(checks, "find_tool", lambda name: None if name == "checkov" else present(name))
    result = k8orize(K8orizeRequest(app_dir=http_app, out=tmp_path / "out", trace=False))
    step = next(s for s in result.report["steps"] if s["step"] == "checks")
    assert step["status"] == "warn" and "not run: checkov" in step["detail"], step
    report = result.report
    assert report["checks"]["checkov"] == {
        "ran": False,
        "passed": False,
        "detail": "checkov is not installed, so the manifests were not checked against its policies "
        "(pip install 'k8or[k8orize]')",
    }
    assert report["checks"]["hadolint"]["passed"] and report["checks"]["kubernetes-validate"]["passed"]
    assert not any(item.startswith("checkov") for item in report["checks_passed"] + report["checks_failed"])
    summary = result.summary()
    assert "- not verified: checkov: checkov is not installed" in summary
    assert "pip install 'k8or[k8orize]'" in summary

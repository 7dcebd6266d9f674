"""Run the app once, the way a user would: start it, wait for its probes, drive them, then SIGTERM.

The same routine serves the traced run (under `strace -f`), the run from the trimmed tree and the run
under the enforced seccomp profile; only the wrapper in front of the app's argv changes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import messages
from .errors import AppExited, K8orizeError, ProbeTimeout
from .probes import ProbeResult, probe
from .report_schema import JSON, JSONObject, RunJSON

DRIVERS = Path(__file__).resolve().parent / "drivers"
_DRIVER_SCRIPTS = {"streamlit-websocket": DRIVERS / "streamlit_session.py"}


@dataclass
class SessionSpec:
    """A user session driven by a standalone script run with the app's interpreter."""

    driver: str
    python: str
    base_url: str


@dataclass
class RunSpec:
    """Everything one run needs; argv is concrete (interpreter and port substituted)."""

    argv: list[str]
    cwd: Path
    env: dict[str, str]
    probes: list[str]
    log: Path
    session: SessionSpec | None = None
    timeout: float = 60.0
    wrapper: list[str] = field(default_factory=list)
    wrapped_child: bool = False  # the app is the wrapper's child (strace), not the wrapper itself
    user: int | None = None  # run as this UID/GID (no wrapper; a wrapper switches users itself)


@dataclass(frozen=True)
class RunOutcome:
    """What happened: every probe's answer, the session, and how the app stopped."""

    probes: list[ProbeResult]
    session: JSONObject | None
    ready_seconds: float
    exit_code: int | None
    stopped_by_sigterm: bool

    @property
    def passed(self) -> bool:
        session_ok = self.session is None or bool(self.session.get("ok"))
        return bool(self.probes) and all(p.ok for p in self.probes) and session_ok

    def as_json(self) -> RunJSON:
        return RunJSON(
            passed=self.passed,
            probes=[p.as_json() for p in self.probes],
            session=self.session,
            ready_seconds=round(self.ready_seconds, 2),
            exit_code=self.exit_code,
            stopped_by_sigterm=self.stopped_by_sigterm,
        )


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _wait_ready(proc: subprocess.Popen[bytes], spec: RunSpec) -> float:
    started = time.monotonic()
    pending = list(spec.probes)
    while pending:
        if proc.poll() is not None:
            raise AppExited(messages.APP_EXITED.format(code=proc.returncode, tail=_tail(spec.log)))
        if time.monotonic() - started > spec.timeout:
            raise ProbeTimeout(
                messages.PROBE_TIMEOUT.format(url=pending[0], seconds=spec.timeout, tail=_tail(spec.log))
            )
        if probe(pending[0], timeout=2.0).ok:
            pending.pop(0)
        else:
            time.sleep(0.2)
    return time.monotonic() - started


def drive_session(session: SessionSpec, timeout: float) -> JSONObject:
    """Run the session driver; its last stdout line is a JSON outcome."""
    script = _DRIVER_SCRIPTS[session.driver]
    cmd = [session.python, "-I", str(script), session.base_url, str(timeout)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 10, check=False)
    lines = proc.stdout.strip().splitlines()
    outcome: JSONObject = {"ok": False}
    try:
        outcome = _json_object(lines[-1]) if lines else outcome
    except json.JSONDecodeError:
        pass
    if not outcome.get("ok") and proc.stderr:
        outcome["stderr"] = list[JSON](proc.stderr.strip().splitlines()[-3:])
    outcome["driver"] = session.driver
    return outcome


def _json_object(line: str) -> JSONObject:
    """The driver's verdict line; anything but a JSON object is treated as unreadable."""
    value = json.loads(line)
    if not isinstance(value, dict):
        raise json.JSONDecodeError("not a JSON object", line, 0)
    outcome: JSONObject = value
    return outcome


def _app_pid(proc: subprocess.Popen[bytes], spec: RunSpec) -> int:
    """The pid to SIGTERM: strace's first child when wrapped by strace, the process itself otherwise."""
    if not spec.wrapped_child:
        return proc.pid
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    try:
        pids = children.read_text().split()
    except OSError:
        pids = []
    return int(pids[0]) if pids else proc.pid


def _stop(proc: subprocess.Popen[bytes], spec: RunSpec, grace: float = 15.0) -> tuple[int | None, bool]:
    try:
        os.kill(_app_pid(proc, spec), signal.SIGTERM)
    except ProcessLookupError:
        return proc.poll(), False
    try:
        return proc.wait(timeout=grace), True
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait(), False


def run_app(spec: RunSpec) -> RunOutcome:
    """Start, probe, drive a session, SIGTERM. Raises AppExited/ProbeTimeout when it never gets ready."""
    # user/group/extra_groups of None leave the identity alone; a UID drops every supplementary group.
    groups: list[int] | None = [] if spec.user is not None else None
    with spec.log.open("ab") as log:
        proc = subprocess.Popen(
            spec.wrapper + spec.argv,
            user=spec.user,
            group=spec.user,
            extra_groups=groups,
            cwd=spec.cwd,
            env=spec.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        ready = _wait_ready(proc, spec)
        results = [probe(url) for url in spec.probes]
        session = drive_session(spec.session, spec.timeout) if spec.session else None
        results += [probe(url) for url in spec.probes]  # still healthy after the session ran
    except (K8orizeError, subprocess.SubprocessError, OSError):
        _kill(proc)
        raise
    code, by_term = _stop(proc, spec)
    return RunOutcome(results, session, ready, code, by_term)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()

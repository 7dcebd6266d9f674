"""Run the app once, the way a user would: start it, wait for its probes, drive them, then SIGTERM.

The same routine serves the traced run (under `strace -f`), the run from the trimmed tree and the run
under the enforced seccomp profile; only what sits between strace and the app's argv changes.

In a sandbox (the default) the whole routine runs inside it: the run harness
(`drivers/sandboxed_run.py`, the engine's own code under the base interpreter) reads the RunSpec as
JSON, calls `run_here`, and answers with the outcome as JSON. So the probes and the session reach
the app on the loopback of its own network namespace, and strace, also inside, traces the app only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from . import messages
from .errors import AppExited, K8orizeError, ProbeTimeout
from .probes import ProbeResult, probe
from .report_schema import JSON, JSONObject, RunJSON
from .sandbox import OutputCopy, SandboxHost, View, base_python
from .trace import STRACE

DRIVERS = Path(__file__).resolve().parent / "drivers"
HARNESS = DRIVERS / "sandboxed_run.py"
_DRIVER_SCRIPTS = {"streamlit-websocket": DRIVERS / "streamlit_session.py"}


def driver_script(driver: str | None) -> Path | None:
    """The standalone script that drives a user session of this kind, or None for no session."""
    return _DRIVER_SCRIPTS.get(driver) if driver else None
_ERRORS: dict[str, type[K8orizeError]] = {"AppExited": AppExited, "ProbeTimeout": ProbeTimeout}


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
    log: Path | None  # None inside the harness: the app's output goes to its stderr, the engine's log
    session: SessionSpec | None = None
    timeout: float = 60.0
    launcher: list[str] = field(default_factory=list)  # between strace and the app: the seccomp launcher
    trace_to: Path | None = None  # strace -f writes here; None: not traced
    user: int | None = None  # without a sandbox: run as this UID/GID (the launcher may switch itself)
    sandbox: SandboxHost | None = None  # run inside this app's sandbox
    mounts: tuple[Path, ...] = ()  # what the sandbox shows besides cwd (the venv, the trimmed tree)
    files: dict[str, bytes] = field(default_factory=dict)  # files the sandbox shows (a profile)
    pass_fds: tuple[int, ...] = ()  # inside the harness: the trace file's descriptor

    @property
    def wrapped_child(self) -> bool:
        """The app is strace's child, not the process started."""
        return self.trace_to is not None

    def command(self) -> list[str]:
        strace = [*STRACE, str(self.trace_to)] if self.trace_to is not None else []
        return [*strace, *self.launcher, *self.argv]

    def to_json(self) -> JSONObject:
        """What the harness needs, as JSON (no sandbox, no log, no files: it is already inside)."""
        session = self.session
        return {
            "argv": list[JSON](self.argv),
            "cwd": str(self.cwd),
            "env": dict[str, JSON](self.env),
            "probes": list[JSON](self.probes),
            "session": [session.driver, session.python, session.base_url] if session else None,
            "timeout": self.timeout,
            "launcher": list[JSON](self.launcher),
            "trace_to": str(self.trace_to) if self.trace_to is not None else None,
            "pass_fds": list[JSON](self.pass_fds),
        }

    @classmethod
    def from_json(cls, data: JSONObject) -> RunSpec:
        session = data["session"]
        trace_to = data["trace_to"]
        return cls(
            argv=[str(a) for a in _list(data["argv"])],
            cwd=Path(str(data["cwd"])),
            env={str(k): str(v) for k, v in _object(data["env"]).items()},
            probes=[str(p) for p in _list(data["probes"])],
            log=None,
            session=SessionSpec(*(str(s) for s in _list(session))) if session else None,
            timeout=float(str(data["timeout"])),
            launcher=[str(a) for a in _list(data["launcher"])],
            trace_to=Path(str(trace_to)) if trace_to else None,
            pass_fds=tuple(int(str(fd)) for fd in _list(data["pass_fds"])),
        )


def _list(value: JSON) -> list[JSON]:
    if not isinstance(value, list):
        raise K8orizeError(f"expected a list, got {value!r}")
    return value


def _object(value: JSON) -> JSONObject:
    if not isinstance(value, dict):
        raise K8orizeError(f"expected an object, got {value!r}")
    return value


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

    @classmethod
    def from_json(cls, data: JSONObject) -> RunOutcome:
        """The harness's verdict back as an outcome (a malformed one is a K8orizeError)."""
        code = data.get("exit_code")
        session = data.get("session")
        return cls(
            probes=[ProbeResult.from_json(_object(p)) for p in _list(data["probes"])],
            session=_object(session) if session is not None else None,
            ready_seconds=float(str(data["ready_seconds"])),
            exit_code=int(str(code)) if code is not None else None,
            stopped_by_sigterm=data.get("stopped_by_sigterm") is True,
        )


def _tail(log: Path | None, lines: int = 20) -> str:
    if log is None:
        return ""
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
    script = _DRIVER_SCRIPTS[session.driver]  # a SessionSpec names a known driver
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
    """A verdict line; anything but a JSON object is treated as unreadable."""
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
    if spec.sandbox is not None:
        return _run_sandboxed(spec, spec.sandbox)
    if spec.log is None:
        raise ValueError("a run outside the harness needs a log")
    with spec.log.open("ab") as log:
        return run_here(spec, log)


def run_here(spec: RunSpec, log: IO[bytes]) -> RunOutcome:
    """run_app in this process's own namespaces (the harness's, inside the sandbox), output to log."""
    # user/group/extra_groups of None leave the identity alone; a UID drops every supplementary group.
    groups: list[int] | None = [] if spec.user is not None else None
    proc = subprocess.Popen(
        spec.command(),
        user=spec.user,
        group=spec.user,
        extra_groups=groups,
        cwd=spec.cwd,
        env=spec.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        pass_fds=spec.pass_fds,
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


# -- in the sandbox -----------------------------------------------------------------------------------


def _trace_fd(spec: RunSpec, host: SandboxHost) -> int | None:
    """The trace file, opened here and handed in: strace reopens it through /proc/self/fd, so the
    sandbox needs no writable folder of the host (nor could the app swap the file for a link)."""
    if spec.trace_to is None:
        return None
    fd = os.open(spec.trace_to, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    if host.as_root:
        os.fchown(fd, host.uid, host.uid)
    return fd


def _run_sandboxed(spec: RunSpec, host: SandboxHost) -> RunOutcome:
    if spec.log is None:
        raise ValueError("a sandboxed run needs a log")
    fd = _trace_fd(spec, host)
    inside = replace(spec, log=None, sandbox=None, files={}, mounts=())
    if fd is not None:
        inside = replace(inside, trace_to=Path(f"/proc/self/fd/{fd}"), pass_fds=(fd,))
    view = View(readonly=(spec.cwd, *spec.mounts), files=spec.files, cwd=spec.cwd)
    launch = host.command([base_python(), "-I", "-S", str(HARNESS)], view)
    launch.fds += (fd,) if fd is not None else ()
    wall = 2 * spec.timeout + 10 * len(spec.probes) + host.limits.run_extra_seconds
    proc = launch.start(subprocess.PIPE, subprocess.PIPE, subprocess.PIPE)
    with OutputCopy(proc.stderr, spec.log):  # the app's output: through a pipe, never the log file
        verdict, in_time = _converse(proc, json.dumps(inside.to_json()).encode(), wall)
    if not in_time:
        raise ProbeTimeout(messages.RUN_TIMED_OUT.format(seconds=wall, tail=_tail(spec.log)))
    return _verdict(verdict.decode(errors="replace"), spec)


def _converse(proc: subprocess.Popen[bytes], request: bytes, wall: float) -> tuple[bytes, bool]:
    """Send the harness its spec, read its verdict; past wall kill the sandbox. (verdict, in time)"""
    expired: list[bool] = []

    def kill() -> None:
        expired.append(True)
        proc.kill()

    timer = threading.Timer(wall, kill)
    timer.start()
    try:
        if proc.stdin is not None:
            with proc.stdin:
                proc.stdin.write(request)
        verdict = proc.stdout.read() if proc.stdout is not None else b""
        proc.wait()
    except BrokenPipeError:  # the sandbox never started: its log says why
        verdict = b""
        proc.wait()
    finally:
        timer.cancel()
    return verdict, not expired


def _verdict(stdout: str, spec: RunSpec) -> RunOutcome:
    """The harness's last line: {"outcome": ...} or {"error": {"type": ..., "message": ...}}."""
    lines = stdout.strip().splitlines()
    try:
        verdict = _json_object(lines[-1]) if lines else {}
        if "outcome" in verdict:
            return RunOutcome.from_json(_object(verdict["outcome"]))
        error = _object(verdict["error"])
    except (json.JSONDecodeError, KeyError, ValueError, K8orizeError):
        raise K8orizeError(messages.HARNESS_NO_VERDICT.format(tail=_tail(spec.log))) from None
    kind = _ERRORS.get(str(error.get("type")), K8orizeError)
    raise kind(str(error.get("message", "")) + _tail(spec.log))


def harness_main(stdin: IO[str], stdout: IO[str], log: IO[bytes]) -> int:
    """The harness's body (see drivers/sandboxed_run.py): one run, one verdict line."""
    spec = RunSpec.from_json(_object(json.loads(stdin.read())))
    try:
        outcome = run_here(spec, log)
        verdict: JSONObject = {"outcome": json.loads(json.dumps(outcome.as_json()))}
    except K8orizeError as exc:
        verdict = {"error": {"type": type(exc).__name__, "message": str(exc)}}
    except OSError as exc:  # the command itself could not start (no such file, not executable)
        verdict = {"error": {"type": "AppExited", "message": messages.NOT_STARTED.format(why=exc)}}
    stdout.write(json.dumps(verdict) + "\n")
    stdout.flush()
    return 0

"""One container life under a runtime, driven as the kubelet and a user would.

Start the bundle; the pod's probes until they pass (within their start-up budget) and once more; the
app kind's user session; the probes again; SIGTERM through the runtime and the grace period to exit
in, then SIGKILL. The probes run inside the pod's network namespace and knock on the pod IP, as the
kubelet's do; `run_to_exit` runs a short check container (the refusal check, the session's sidecar).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import messages
from .errors import K8orizeError
from .jsontypes import JSONObject
from .podnet import PodNetwork
from .probes import ProbeResult, probe
from .runner import RunOutcome
from .runtimes import ContainerRuntime
from .seccomp_log import SeccompRecord
from .shipped import PodProbe, ShippedPod

#: Run by the image's python as the container's own process: mount and ptrace must fail with EPERM.
REFUSAL_CHECK = """
import ctypes, errno, json
libc = ctypes.CDLL(None, use_errno=True)
def attempt(rc):
    err = ctypes.get_errno()
    ctypes.set_errno(0)
    return {"refused": rc != 0 and err == errno.EPERM, "errno": err}
verdict = {"mount": attempt(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None))}
verdict["ptrace"] = attempt(libc.ptrace(0, 0, None, None))
print(json.dumps(verdict), flush=True)
"""
_EXEC_TIMEOUT = 60.0


class RuntimeCheckFailed(K8orizeError):
    """The container never became ready under the runtime (the message says why)."""


@dataclass(frozen=True)
class DrivePlan:
    """How long the probes may take to pass first, and the user session (it returns its verdict)."""

    budget: float
    session: Callable[[], JSONObject] | None = None


@dataclass(frozen=True)
class Life:
    """One container life under the runtime: how the drive went, and the calls the profile refused."""

    label: str  # "shipped" (the exact profile) or "audit" (the SCMP_ACT_LOG copy)
    outcome: RunOutcome | None  # None: it never became ready (see error)
    error: str | None
    denials: dict[str, int] | None  # (would-be) refusals by call; None when not observed


@dataclass(frozen=True)
class Container:
    """One container life's moving parts."""

    runtime: ContainerRuntime
    pod: ShippedPod
    net: PodNetwork
    bundle: Path
    cid: str
    log: Path

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _distinct(probes: tuple[PodProbe, ...]) -> list[PodProbe]:
    """One of each target: startup, readiness and liveness probes often knock on the same URL."""
    seen: dict[tuple[object, ...], PodProbe] = {}
    for p in probes:
        seen.setdefault((p.action, p.port, p.path, p.command), p)
    return list(seen.values())


def _connect(host: str, port: int) -> ProbeResult:
    try:
        socket.create_connection((host, port), timeout=2.0).close()
        return ProbeResult(f"tcp://{host}:{port}", None, True)
    except OSError as exc:
        return ProbeResult(f"tcp://{host}:{port}", None, False, str(exc))


def _exec(c: Container, args: list[str], name: str) -> subprocess.CompletedProcess[str]:
    """Run args in the container as its own process runs (user, env, cwd, no capabilities, profile)."""
    config = json.loads((c.bundle / "config.json").read_text())
    process_file = c.bundle / f"exec-{name}.json"
    process_file.write_text(json.dumps({**config["process"], "args": args}))
    return c.runtime.exec(c.cid, process_file, _EXEC_TIMEOUT)


def _probe_once(c: Container, p: PodProbe) -> ProbeResult:
    """The probe as the kubelet makes it: to the pod IP (HTTP status below 400, a TCP connect, exit 0)."""
    port = p.port or c.pod.port
    if p.action == "http":
        url = f"http://{c.net.pod_ip}:{port}{p.path}"
        return c.net.call(lambda: probe(url, timeout=5.0))
    if p.action == "tcp":
        return c.net.call(lambda: _connect(c.net.pod_ip, port))
    proc = _exec(c, list(p.command), "probe")
    detail = None if proc.returncode == 0 else (proc.stderr or proc.stdout)[-200:]
    return ProbeResult(f"exec: {' '.join(p.command)}", proc.returncode, proc.returncode == 0, detail)


def _answers_on_loopback(c: Container, p: PodProbe, port: int) -> bool:
    """The same probe to 127.0.0.1 inside the pod's namespace."""
    if p.action == "http":
        url = f"http://127.0.0.1:{port}{p.path}"
        return c.net.call(lambda: probe(url, timeout=5.0)).ok
    return p.action == "tcp" and c.net.call(lambda: _connect("127.0.0.1", port)).ok


def _not_ready(c: Container, p: PodProbe, seconds: float) -> RuntimeCheckFailed:
    """Why the pod never got ready; names the usual cause when the app listens on loopback only."""
    port = p.port or c.pod.port
    if _answers_on_loopback(c, p, port):
        return RuntimeCheckFailed(messages.LOOPBACK_ONLY.format(port=port, ip=c.net.pod_ip))
    what = f"{p.kind} probe ({p.action} {p.path if p.action == 'http' else ''} on port {port})"
    return RuntimeCheckFailed(
        messages.RUNTIME_NOT_READY.format(runtime=c.runtime.name, probe=what, seconds=seconds, tail=c.tail())
    )


def _wait_ready(c: Container, proc: subprocess.Popen[bytes], budget: float) -> float:
    started = time.monotonic()
    pending = _distinct(c.pod.probes)
    while pending:
        if proc.poll() is not None:
            raise RuntimeCheckFailed(
                messages.RUNTIME_EXITED.format(runtime=c.runtime.name, code=proc.returncode, tail=c.tail())
            )
        if time.monotonic() - started > budget:
            raise _not_ready(c, pending[0], budget)
        if _probe_once(c, pending[0]).ok:
            pending.pop(0)
        else:
            time.sleep(0.2)
    return time.monotonic() - started


def _stop(c: Container, proc: subprocess.Popen[bytes]) -> tuple[int | None, bool]:
    """SIGTERM through the runtime; the grace period to exit in, then SIGKILL as the kubelet does."""
    if proc.poll() is not None:
        return proc.returncode, False
    c.runtime.kill(c.cid, "TERM")
    try:
        return proc.wait(timeout=c.pod.grace_seconds), True
    except subprocess.TimeoutExpired:
        c.runtime.kill(c.cid, "KILL")
        return proc.wait(timeout=30), False


def _clean_up(c: Container, proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        c.runtime.kill(c.cid, "KILL")
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    c.runtime.delete(c.cid)


def _drive(c: Container, proc: subprocess.Popen[bytes], plan: DrivePlan) -> RunOutcome:
    """Probes until ready, probes, the session, probes again, SIGTERM."""
    ready = _wait_ready(c, proc, plan.budget)
    probes = _distinct(c.pod.probes)
    results = [_probe_once(c, p) for p in probes]
    session = plan.session() if plan.session is not None else None
    results += [_probe_once(c, p) for p in probes]  # still healthy after the session
    code, by_term = _stop(c, proc)
    return RunOutcome(results, session, ready, code, by_term)


def run_life(
    c: Container, plan: DrivePlan, label: str, denials: Callable[[], dict[str, int] | None] = lambda: None
) -> Life:
    """Start the container, drive it, stop it, remove it; `denials` is asked once it is gone."""
    with c.log.open("wb") as handle:
        proc = c.runtime.start(c.bundle, c.cid, handle)
    try:
        outcome, error = _drive(c, proc, plan), None
    except K8orizeError as exc:
        outcome, error = None, str(exc)
    finally:
        _clean_up(c, proc)
    return Life(label, outcome, error, denials())


def run_to_exit(c: Container, timeout: float = _EXEC_TIMEOUT) -> tuple[int | None, str]:
    """Run the container's process to its end (a check, not a server): its exit code and output."""
    with c.log.open("wb") as handle:
        proc = c.runtime.start(c.bundle, c.cid, handle)
    try:
        code: int | None = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        code = None
    finally:
        _clean_up(c, proc)
    return code, c.log.read_text(encoding="utf-8", errors="replace")


def uid_denials(records: list[SeccompRecord], uid: int) -> dict[str, int]:
    """Calls the container's processes (its UID) made outside the allow-list, by name."""
    counts: dict[str, int] = {}
    for record in records:
        if record.uid == uid:
            counts[record.syscall] = counts.get(record.syscall, 0) + 1
    return counts

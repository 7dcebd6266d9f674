"""The OCI container runtimes a kubelet starts pods with, driven through their own CLIs.

runc is what containerd runs for every pod; runsc is gVisor's, what a `RuntimeClass` with handler
`runsc` selects (k8or's `--sandbox gvisor`). Both take the same bundle and the same verbs; runsc runs
here with the ptrace platform (no KVM needed), the host network stack of the pod's namespace and no
cgroups, and enforces the OCI seccomp profile inside its sandbox (`--oci-seccomp`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO

from . import messages
from .errors import ToolMissing
from .jsontypes import JSONObject

RUNSC_OPTIONS = ("--platform=ptrace", "--network=host", "--ignore-cgroups", "--oci-seccomp")
_HINTS = {"runc": "apt-get install runc", "runsc": "apt-get install runsc (gVisor)"}
_VERB_TIMEOUT = 60.0


@dataclass(frozen=True)
class ContainerRuntime:
    """One runtime binary with its own state folder (`--root`), so nothing meets the host's containers."""

    name: str  # "runc" | "runsc"
    executable: str
    state: Path
    options: tuple[str, ...] = ()

    def argv(self, *args: str) -> list[str]:
        return [self.executable, "--root", str(self.state), *self.options, *args]

    def start(self, bundle: Path, container_id: str, log: IO[bytes]) -> subprocess.Popen[bytes]:
        """`run` in the foreground: the returned process lives as long as the container, and exits
        with its exit code; the container's output goes to `log`."""
        self.state.mkdir(parents=True, exist_ok=True)
        return subprocess.Popen(
            self.argv("run", "--bundle", str(bundle), container_id),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def status(self, container_id: str) -> JSONObject | None:
        """`state`: the container's status and pid, None when the runtime does not know it (yet)."""
        proc = self._verb("state", container_id)
        try:
            found = json.loads(proc.stdout) if proc.returncode == 0 else None
        except json.JSONDecodeError:
            return None
        return found if isinstance(found, dict) else None

    def wait_running(self, container_id: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.status(container_id)
            if state and state.get("status") == "running":
                return True
            time.sleep(0.05)
        return False

    def kill(self, container_id: str, signal: str = "TERM") -> bool:
        return self._verb("kill", container_id, signal).returncode == 0

    def delete(self, container_id: str) -> None:
        self._verb("delete", "--force", container_id)

    def exec(self, container_id: str, process: Path, timeout: float) -> subprocess.CompletedProcess[str]:
        """Run process.json (an OCI `process`) inside the running container, under its profile."""
        cmd = self.argv("exec", "--process", str(process), container_id)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def version(self) -> str:
        """'1.1.5+ds1 (commit 1.1.5+ds1-1+deb12u1, libseccomp 2.5.4)' from `--version`."""
        return describe_version(version_text(self.executable))

    def _verb(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = self.argv(*args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=_VERB_TIMEOUT, check=False)


@cache
def version_text(executable: str) -> str:
    """The runtime's whole `--version` output."""
    proc = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=30, check=False)
    return proc.stdout.strip()


def describe_version(text: str) -> str:
    """The version line's number, with the commit and libseccomp lines when the runtime prints them."""
    fields = dict(line.partition(":")[::2] for line in text.splitlines() if ":" in line)
    first = text.splitlines()[0] if text else ""
    number = first.rsplit(" ", 1)[-1] if "version" in first else first or "unknown"
    extra = [f"{key} {fields[key].strip()}" for key in ("commit", "libseccomp") if key in fields]
    return f"{number} ({', '.join(extra)})" if extra else number


def find(name: str, state: Path) -> ContainerRuntime:
    """The runtime `name` ("runc" or "runsc") on PATH, keeping its state under `state`."""
    executable = shutil.which(name)
    if executable is None:
        raise ToolMissing(
            messages.TOOL_MISSING.format(
                tool=name, purpose="run the image as a kubelet would", hint=_HINTS[name]
            )
        )
    options = RUNSC_OPTIONS if name == "runsc" else ()
    return ContainerRuntime(name, executable, state, options)

"""Seccomp's records in the kernel log: how a run under runc shows every call its profile would refuse.

A verification copy of the profile whose default action is SCMP_ACT_LOG lets a call outside the
allow-list through and makes the kernel write an audit record (`type=1326 ... syscall=N`) naming it;
with no audit daemon listening, the kernel prints the record to its log, /dev/kmsg. When a run leaves
no record, every call it made was on the allow-list, so the shipped profile (SCMP_ACT_ERRNO, the same
list) would have refused nothing either.

A canary (a tiny process whose own filter logs one `getppid`) proves the records reach /dev/kmsg on
this host, and marks the end of each phase: records arrive in order, so once the canary's is read,
every earlier one is too.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import syscalls

KMSG = "/dev/kmsg"
_RECORD = re.compile(
    r"audit: type=1326 .*?\buid=(\d+)\b.*?\bpid=(\d+) comm=\"([^\"]*)\".*?\barch=([0-9a-f]+) syscall=(\d+)"
)
_CODE = re.compile(r"\bcode=0x([0-9a-f]+)")
_CANARY = (
    "import os, pyseccomp\n"
    "f = pyseccomp.SyscallFilter(pyseccomp.ALLOW)\n"
    "f.add_rule(pyseccomp.LOG, 'getppid')\n"
    "f.load()\n"
    "os.getppid()\n"
)
_ACTIONS = {0x7FFC0000: "log", 0x7FFF0000: "allow", 0x80000000: "kill", 0x00000000: "kill-thread"}


@dataclass(frozen=True)
class SeccompRecord:
    """One call a seccomp filter did not simply allow."""

    pid: int
    uid: int
    comm: str
    syscall: str  # the name, or "ARCH:NUMBER" for a number the table does not know
    action: str  # "log", "errno 1", "kill", ...


def _action(code: int) -> str:
    if code & 0xFFFF0000 == 0x00050000:
        return f"errno {code & 0xFFFF}"
    return _ACTIONS.get(code & 0xFFFF0000, hex(code))


def parse_record(line: str) -> SeccompRecord | None:
    """A seccomp audit record from one kernel log line; None for any other line."""
    match = _RECORD.search(line)
    if not match:
        return None
    uid, pid, comm, arch, number = match.groups()
    native = syscalls.AUDIT_ARCHES.get(arch)
    name = syscalls.name_of(int(number), native) if native else None
    code = _CODE.search(line)
    action = _action(int(code.group(1), 16)) if code else "unknown"
    return SeccompRecord(int(pid), int(uid), comm, name or f"{native or arch}:{number}", action)


class KernelLog:
    """Reads the seccomp records the kernel logs from the moment it is opened. Use as a context manager."""

    def __init__(self, path: str = KMSG) -> None:
        self.path = path
        self._fd: int | None = None
        self.observable = False  # records of this host's seccomp filters reach the log (canary seen)

    def __enter__(self) -> KernelLog:
        try:
            self._fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            os.lseek(self._fd, 0, os.SEEK_END)
        except OSError:
            self.close()
            return self
        self.observable = self._canary_seen()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def records(self, timeout: float = 3.0) -> list[SeccompRecord]:
        """Every seccomp record logged since the last call (none when not observable)."""
        if not self.observable:
            return []
        found: list[SeccompRecord] = []
        self._read_until_canary(found, timeout)
        return found

    def _canary_seen(self) -> bool:
        return self._read_until_canary([], timeout=3.0)

    def _read_until_canary(self, found: list[SeccompRecord], timeout: float) -> bool:
        canary = _run_canary()
        if canary is None:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self._next_line()
            if line is None:
                time.sleep(0.02)
                continue
            record = parse_record(line)
            if record is None:
                continue
            if record.pid == canary:
                return True
            found.append(record)
        return False

    def _next_line(self) -> str | None:
        """One /dev/kmsg record (each read returns exactly one), None when there is none yet."""
        assert self._fd is not None
        try:
            return os.read(self._fd, 8192).decode("utf-8", errors="replace")
        except BlockingIOError:
            return None
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # the ring buffer overwrote records we had not read: go on
                return ""
            raise


def _run_canary() -> int | None:
    """Start a process that logs one getppid under its own filter; its pid (None if it failed)."""
    proc = subprocess.Popen(
        [sys.executable, "-I", "-c", _CANARY], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return proc.pid if proc.wait(timeout=30) == 0 else None


_GVISOR_DENIED = re.compile(r"\] Syscall (\d+): denied by seccomp")


def gvisor_denials(folder: Path, arch: str = "x86_64") -> dict[str, int]:
    """Calls gVisor's sentry refused under the OCI profile, by name, from runsc's debug logs in folder."""
    counts: dict[str, int] = {}
    for path in sorted(folder.glob("*.boot.txt")):
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                match = _GVISOR_DENIED.search(line)
                if match:
                    number = int(match.group(1))
                    name = syscalls.name_of(number, arch) or f"{arch}:{number}"
                    counts[name] = counts.get(name, 0) + 1
    return counts

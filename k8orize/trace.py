"""Read `strace -f` output: which syscalls ran, which files were opened, what was refused."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

#: How every run is traced: follow forks, no attach/exit noise, and `-s 0` so no data buffer or argv
#: string ever lands in OUT (the trace is committed; paths are still printed in full). Append the file.
STRACE = ("strace", "-f", "-qq", "-s", "0", "-o")

_LINE = re.compile(r"^(\d+)\s+(.*)$")
_CALL = re.compile(r"^([a-z0-9_]+)\(")
_RESUMED = re.compile(r"^<\.\.\. ([a-z0-9_]+) resumed>(.*)$")
_FIRST_PATH = re.compile(r'"((?:[^"\\]|\\.)*)"')
_OPENERS = {"open", "openat", "openat2", "creat", "execve", "execveat"}
_UNFINISHED = " <unfinished ...>"
#: The successful filter load (libseccomp probes the kernel with failing SET_MODE_FILTER calls first).
FILTER_LOADED = re.compile(r"^seccomp\(SECCOMP_SET_MODE_FILTER, [^)]*filter=.*\) = 0$")


@dataclass
class SyscallTrace:
    """What one traced run did."""

    calls: dict[str, int] = field(default_factory=dict)
    opened: set[str] = field(default_factory=set)
    refused: dict[str, int] = field(default_factory=dict)  # calls that returned EPERM
    pids: set[int] = field(default_factory=set)

    @property
    def syscalls(self) -> set[str]:
        return set(self.calls)


def _result(text: str) -> str:
    """What the call returned. strace pads a short call to column 40 before ` = `: a resumed call
    (`<... openat resumed>)             = 15`) always is, and so is `getuid()`."""
    head, sep, tail = text.rpartition(" = ")
    return tail.strip() if sep and head.rstrip().endswith(")") else ""


def _record(trace: SyscallTrace, name: str, text: str) -> None:
    trace.calls[name] = trace.calls.get(name, 0) + 1
    result = _result(text)
    if result.startswith("-1 EPERM"):
        trace.refused[name] = trace.refused.get(name, 0) + 1
    if name in _OPENERS and result and not result.startswith("-1") and not result.startswith("?"):
        match = _FIRST_PATH.search(text)
        if match:
            trace.opened.add(match.group(1))


def parse_lines(lines: Iterable[str], after_marker: re.Pattern[str] | None = None) -> SyscallTrace:
    """Parse strace lines (with pids, as from `strace -f -o FILE`).

    With after_marker, only lines after the first line matching it count: the enforced run uses
    this to ignore the launcher's own start-up before the filter was loaded.
    """
    trace = SyscallTrace()
    pending: dict[int, tuple[str, str]] = {}
    armed = after_marker is None
    for line in lines:
        match = _LINE.match(line.rstrip("\n"))
        if not match:
            continue
        pid, rest = int(match.group(1)), match.group(2)
        if not armed and after_marker is not None:
            armed = bool(after_marker.search(rest))
            continue
        trace.pids.add(pid)
        if rest.endswith(_UNFINISHED):
            call = _CALL.match(rest)
            if call:
                pending[pid] = (call.group(1), rest[: -len(_UNFINISHED)])
            continue
        resumed = _RESUMED.match(rest)
        if resumed:
            name, head = pending.pop(pid, (resumed.group(1), ""))
            _record(trace, name, head + resumed.group(2))
            continue
        call = _CALL.match(rest)
        if call:
            _record(trace, call.group(1), rest)
    for name, _head in pending.values():
        # A call still blocked when the process died (e.g. a wait at SIGTERM) was still made.
        trace.calls[name] = trace.calls.get(name, 0) + 1
    return trace


def parse_file(path: Path, after_marker: re.Pattern[str] | None = None) -> SyscallTrace:
    """Parse an strace output file."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        return parse_lines(handle, after_marker)

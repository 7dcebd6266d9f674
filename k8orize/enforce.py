"""Enforce an OCI seccomp profile with libseccomp, then exec the app (or check refusals).

Run as `python -I k8orize/enforce.py PROFILE.json [--path DIR] [--user UID] -- ARGV...` (a script, so
it needs nothing but pyseccomp, found on DIR when given: in the sandbox the interpreter runs without
site-packages): it drops to UID, loads the filter (no_new_privs set by libseccomp), and execs the app,
whose calls from then on meet exactly the profile a container runtime would apply.
`--check-refusals` instead tries the calls the profile must refuse and prints a JSON verdict.
Keep this module free of heavy imports: it runs before the app starts.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict

if TYPE_CHECKING:
    import pyseccomp

#: Written to stderr just before the filter is loaded; trace parsing starts counting after it.
MARKER = "k8or-seccomp-load"

_ARCHES = {
    "SCMP_ARCH_X86_64": "X86_64",
    "SCMP_ARCH_X86": "X86",
    "SCMP_ARCH_X32": "X32",
    "SCMP_ARCH_AARCH64": "AARCH64",
    "SCMP_ARCH_ARM": "ARM",
}


_TABLE = Path(__file__).resolve().parent / "data" / "syscalls.json"
_NATIVE = {"X86_64": "x86_64", "AARCH64": "aarch64"}


class _Rule(TypedDict):
    names: list[str]
    action: NotRequired[str]


class OciProfile(TypedDict):
    """The parts of an OCI seccomp profile the filter is built from."""

    defaultAction: str
    defaultErrnoRet: NotRequired[int]
    architectures: NotRequired[list[str]]
    syscalls: list[_Rule]


class Refusal(TypedDict):
    refused: bool
    errno: int


def _newer_calls(native_name: str) -> dict[str, int]:
    """Calls of newer kernels that libseccomp cannot resolve by name, with their numbers."""
    try:
        calls: dict[str, int] = json.loads(_TABLE.read_text())["supplement"]["architectures"][
            _NATIVE[native_name]
        ]
        return calls
    except (OSError, KeyError, ValueError):
        return {}


def _allowed_names(profile: OciProfile) -> list[str]:
    return [
        call
        for rule in profile["syscalls"]
        if rule.get("action") == "SCMP_ACT_ALLOW"
        for call in rule["names"]
    ]


def build_filter(profile: OciProfile) -> pyseccomp.SyscallFilter:
    """A pyseccomp SyscallFilter equivalent to the OCI profile (only ALLOW rules are used).

    Calls too new for libseccomp are allowed by number; libseccomp cannot translate a bare number to
    the compat ABIs (x86, x32), so when there are such calls the filter covers the native ABI only
    (the others are then killed, which is stricter, never looser).
    """
    import pyseccomp

    errno_ret = int(profile.get("defaultErrnoRet", errno.EPERM))
    default = pyseccomp.ERRNO(errno_ret) if profile["defaultAction"] == "SCMP_ACT_ERRNO" else pyseccomp.KILL
    filt = pyseccomp.SyscallFilter(default)
    native = pyseccomp.system_arch()
    native_name = next((n for n in _NATIVE if getattr(pyseccomp.Arch, n, None) == native), "")
    newer = _newer_calls(native_name)
    names = _allowed_names(profile)
    by_number = [newer[c] for c in names if pyseccomp.resolve_syscall(native, c) < 0 and c in newer]
    if not by_number:
        for name in profile.get("architectures", []):
            arch = getattr(pyseccomp.Arch, _ARCHES.get(name, ""), None)
            if arch is not None and arch != native and not filt.exist_arch(arch):
                try:
                    filt.add_arch(arch)
                except OSError:
                    pass  # the kernel/libseccomp cannot combine this ABI with the native one
    for call in names:
        if pyseccomp.resolve_syscall(native, call) >= 0:
            filt.add_rule(pyseccomp.ALLOW, call)
    for number in by_number:
        filt.add_rule(pyseccomp.ALLOW, number)
    return filt


def _read(path: str) -> pyseccomp.SyscallFilter:
    with open(path, encoding="utf-8") as handle:
        profile: OciProfile = json.load(handle)
    return build_filter(profile)


def _activate(filt: pyseccomp.SyscallFilter) -> None:
    sys.stderr.write(MARKER + "\n")
    sys.stderr.flush()
    filt.load()


def _load(path: str) -> None:
    _activate(_read(path))


def check_refusals(path: str, target: str) -> dict[str, Refusal | bool]:
    """Under the profile, try mount on target and ptrace (must fail with EPERM) and getpid (must work).

    The caller owns target (an empty folder) and removes it: after the filter is loaded this process
    may not be allowed to.
    """
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    pid_before = os.getpid()
    _load(path)
    verdict: dict[str, Refusal | bool] = {}
    rc = libc.mount(b"none", target.encode(), b"tmpfs", 0, None)
    verdict["mount"] = {"refused": rc != 0 and ctypes.get_errno() == errno.EPERM, "errno": ctypes.get_errno()}
    if rc == 0:
        libc.umount2(target.encode(), 0)
    rc = libc.ptrace(0, 0, None, None)  # PTRACE_TRACEME
    verdict["ptrace"] = {
        "refused": rc != 0 and ctypes.get_errno() == errno.EPERM,
        "errno": ctypes.get_errno(),
    }
    verdict["getpid_allowed"] = libc.getpid() == pid_before
    return verdict


def _become(uid: int) -> None:
    """Drop to the app's UID/GID with no supplementary groups, before the filter is loaded."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def _options(args: list[str]) -> tuple[int | None, list[str]]:
    """--path DIR (put on sys.path) and --user UID, in that order; the rest is `-- ARGV...`."""
    if args[:1] == ["--path"] and len(args) >= 2:
        sys.path.insert(0, args[1])
        args = args[2:]
    if args[:1] == ["--user"] and len(args) >= 2:
        return int(args[1]), args[2:]
    return None, args


def main(argv: list[str]) -> int:
    if len(argv) >= 4 and argv[1] == "--check-refusals":
        print(json.dumps(check_refusals(argv[2], argv[3])), flush=True)
        return 0
    uid, args = _options(argv[2:])
    if len(argv) < 2 or len(args) < 2 or args[0] != "--":
        sys.stderr.write("usage: enforce.py PROFILE.json [--path DIR] [--user UID] -- ARGV...\n")
        return 2
    filt = _read(argv[1])  # read while still privileged: the profile may not be readable by the UID
    if uid is not None:
        _become(uid)
    _activate(filt)
    os.execve(args[1], args[1:], os.environ)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv))

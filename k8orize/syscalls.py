"""The syscall table: current names per architecture, shipped as data and checked against libseccomp.

`data/syscalls.json` was generated from libseccomp's own name resolution
(seccomp_syscall_resolve_num_arch over every number), so names are the kernel's current ones:
`pread64`, not `pread`; `faccessat2`, `close_range` and `openat2` are present. A short supplement adds
the calls of newer kernels that the installed libseccomp cannot name yet (statmount ... file_setattr);
the enforcement launcher allows those by number.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TypedDict

TABLE = Path(__file__).resolve().parent / "data" / "syscalls.json"

# OCI architecture names: the native one first, then the compat ABIs the kernel also accepts.
OCI_ARCHES = {
    "x86_64": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "aarch64": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
}
# The kernel's AUDIT_ARCH_* values, as seccomp's audit records print them (`arch=c000003e`).
AUDIT_ARCHES = {"c000003e": "x86_64", "c00000b7": "aarch64"}
# Names that older tools (and older strace builds) print, mapped to the kernel's current names.
ALIASES = {
    "pread": "pread64",
    "pwrite": "pwrite64",
    "fstatat": "newfstatat",
    "fstatat64": "newfstatat",
    "_llseek": "lseek",
    "prlimit": "prlimit64",
}


class _Supplement(TypedDict):
    source: str
    architectures: dict[str, dict[str, int]]


class _SyscallTable(TypedDict):
    """The shipped table: libseccomp's names and numbers per architecture, plus newer-kernel calls."""

    source: str
    architectures: dict[str, dict[str, int]]
    supplement: _Supplement


@cache
def _load() -> _SyscallTable:
    data: _SyscallTable = json.loads(TABLE.read_text())
    return data


@cache
def table(arch: str = "x86_64") -> dict[str, int]:
    """Name -> number for arch ('x86_64' or 'aarch64'): libseccomp's names plus the newer-kernel ones."""
    data = _load()
    if arch not in data["architectures"]:
        raise ValueError(f"no syscall table for {arch!r}; known: {', '.join(architectures())}")
    return {**data["architectures"][arch], **data["supplement"]["architectures"][arch]}


def supplement(arch: str = "x86_64") -> dict[str, int]:
    """Only the calls libseccomp does not know by name."""
    return dict(_load()["supplement"]["architectures"][arch])


@cache
def _by_number(arch: str) -> dict[int, str]:
    return {number: name for name, number in table(arch).items()}


def name_of(number: int, arch: str = "x86_64") -> str | None:
    """The call with this number on arch, None when the table has no such number."""
    return _by_number(arch).get(number)


def architectures() -> list[str]:
    return list(_load()["architectures"])


def source() -> str:
    """Where the table came from (libseccomp version, kernel tables)."""
    return f"{_load()['source']}; {_load()['supplement']['source']}"


def canonical_name(name: str, arch: str = "x86_64") -> str:
    """The current name for a legacy spelling, or for strace's `syscall_0x1c9` of a call it cannot name."""
    if name.startswith("syscall_0x"):
        return _by_number(arch).get(int(name[len("syscall_0x") :], 16), name)
    return ALIASES.get(name, name)


def is_known(name: str, arch: str = "x86_64") -> bool:
    return canonical_name(name) in table(arch)


def split_known(names: set[str], arch: str = "x86_64") -> tuple[set[str], set[str]]:
    """Canonicalise names and split them into (known on arch, unknown)."""
    canon = {canonical_name(n, arch) for n in names}
    known = {n for n in canon if n in table(arch)}
    return known, canon - known

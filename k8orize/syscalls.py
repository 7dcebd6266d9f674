"""The syscall table: current names per architecture, shipped as data and checked against libseccomp.

`data/syscalls.json` was generated from libseccomp's own name resolution
(seccomp_syscall_resolve_num_arch over every number), so names are the kernel's current ones:
`pread64`, not `pread`; `faccessat2`, `close_range` and `openat2` are present.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

TABLE = Path(__file__).resolve().parent / "data" / "syscalls.json"

# OCI architecture names: the native one first, then the compat ABIs the kernel also accepts.
OCI_ARCHES = {
    "x86_64": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "aarch64": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
}
# Names that older tools (and older strace builds) print, mapped to the kernel's current names.
ALIASES = {
    "pread": "pread64",
    "pwrite": "pwrite64",
    "fstatat": "newfstatat",
    "fstatat64": "newfstatat",
    "_llseek": "lseek",
    "prlimit": "prlimit64",
}


@cache
def _load() -> dict:
    return json.loads(TABLE.read_text())


def table(arch: str = "x86_64") -> dict[str, int]:
    """Name -> number for arch ('x86_64' or 'aarch64')."""
    try:
        return _load()["architectures"][arch]
    except KeyError:
        raise ValueError(f"no syscall table for {arch!r}; known: {', '.join(architectures())}") from None


def architectures() -> list[str]:
    return list(_load()["architectures"])


def source() -> str:
    """Where the table came from (libseccomp version)."""
    return _load()["source"]


def canonical_name(name: str) -> str:
    """The current kernel name for a possibly legacy spelling."""
    return ALIASES.get(name, name)


def is_known(name: str, arch: str = "x86_64") -> bool:
    return canonical_name(name) in table(arch)


def split_known(names: set[str], arch: str = "x86_64") -> tuple[set[str], set[str]]:
    """Canonicalise names and split them into (known on arch, unknown)."""
    canon = {canonical_name(n) for n in names}
    known = {n for n in canon if n in table(arch)}
    return known, canon - known

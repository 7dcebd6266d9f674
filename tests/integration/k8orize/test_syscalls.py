"""The shipped syscall table: current names, and every entry agrees with libseccomp's resolution."""

from __future__ import annotations

import pyseccomp
import pytest

from k8orize import syscalls

_ARCH = {"x86_64": pyseccomp.Arch.X86_64, "aarch64": pyseccomp.Arch.AARCH64}


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_current_names_are_known(arch: str) -> None:
    names = syscalls.table(arch)
    for name in ("pread64", "pwrite64", "faccessat2", "close_range", "openat2", "clone3", "rseq", "execve"):
        assert name in names, name
    assert "pread" not in names and "pwrite" not in names


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_table_matches_libseccomp(arch: str) -> None:
    newer = syscalls.supplement(arch)
    for name, number in syscalls.table(arch).items():
        if name in newer:
            continue
        assert pyseccomp.resolve_syscall(_ARCH[arch], name) == number, name


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_supplement_holds_only_calls_libseccomp_cannot_name(arch: str) -> None:
    newer = syscalls.supplement(arch)
    assert {"statmount", "listmount", "mseal", "file_setattr"} <= set(newer)
    known_numbers = {n for name, n in syscalls.table(arch).items() if name not in newer}
    for name, number in newer.items():
        assert pyseccomp.resolve_syscall(_ARCH[arch], name) < 0, f"{name} is known now: regenerate the table"
        assert number not in known_numbers
    assert syscalls.canonical_name(f"syscall_{hex(newer['statmount'])}", arch) == "statmount"


def test_architecture_specific_names() -> None:
    assert "open" in syscalls.table("x86_64") and "open" not in syscalls.table("aarch64")
    assert syscalls.table("x86_64")["openat2"] == 437 == syscalls.table("aarch64")["openat2"]
    with pytest.raises(ValueError, match="no syscall table"):
        syscalls.table("sparc")


def test_legacy_spellings_are_canonicalised() -> None:
    known, unknown = syscalls.split_known({"pread", "fstatat", "read", "syscall_0x1ff"})
    assert known == {"pread64", "newfstatat", "read"}
    assert unknown == {"syscall_0x1ff"}
    assert "libseccomp" in syscalls.source()

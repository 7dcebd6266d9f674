"""The runtime's base set: what runc's init calls between installing the filter and execve, from strace."""

from __future__ import annotations

import pytest

from k8orize.runtime_base import RuntimeBase, RuntimeBaseFailed, calls_after_filter
from k8orize.runtimes import describe_version
from k8orize.seccomp import ALWAYS, SeccompProfile

# runc 1.1.5's init as `strace -f --pidns-translation` shows it: the parent probes the kernel with
# failing SET_MODE_FILTER calls (NULL filter), the init installs its filter with prctl, then closes,
# checks /proc/self/fd with fstatfs, lists it, and execs; another thread keeps sleeping meanwhile.
RUNC_INIT = """\
10988 seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, NULL) = -1 EFAULT (Bad address)
10999 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, \
child_tid=0x7f7805fee990}, 88 <unfinished ...>
10999 <... clone3 resumed> => {parent_tid=[3 /* 11000 in strace's PID NS */]}, 88) = \
3 /* 11000 in strace's PID NS */
10999 close(6) = 0
10999 prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, {len=61, filter=0xc000073000} <unfinished ...>
11000 nanosleep({tv_sec=0, tv_nsec=20000},  <unfinished ...>
10999 <... prctl resumed>)              = 0
10999 close(3) = 0
10999 openat(AT_FDCWD, "/proc/self/fd/5", O_WRONLY|O_CLOEXEC) = 3
11000 <... nanosleep resumed>NULL)      = 0
10999 write(3, ""..., 1) = 1
10999 fstatfs(4, {f_type=PROC_SUPER_MAGIC, f_bsize=4096}) = 0
10999 getdents64(4, 0xc000170000 /* 10 entries */, 8192) = 240
10999 execve("/bin/true", [...], 0xc000024720 /* 3 vars */ <unfinished ...>
10999 <... execve resumed>)             = 0
10999 brk(NULL) = 0x55d1c1a5d000
10999 exit_group(0) = ?
"""


def test_the_calls_after_the_filter_up_to_execve_are_the_base() -> None:
    counts = calls_after_filter(RUNC_INIT.splitlines())
    # Not the parent's probing, not the unfiltered thread's sleep, not the app's own calls after execve.
    assert set(counts) == {"close", "openat", "write", "fstatfs", "getdents64", "execve"}
    assert counts["close"] == 1


def test_with_tsync_every_thread_of_the_process_is_filtered() -> None:
    lines = RUNC_INIT.replace(
        "prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, {len=61, filter=0xc000073000}",
        "seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, {len=61, filter=0xc000073000}",
    ).splitlines()
    assert "nanosleep" in calls_after_filter(lines)


def test_no_filter_installed_is_an_error() -> None:
    lines = [line for line in RUNC_INIT.splitlines() if "PR_SET_SECCOMP" not in line]
    with pytest.raises(RuntimeBaseFailed, match="no seccomp filter was installed"):
        calls_after_filter(lines)


def test_the_profile_takes_the_runtime_base_and_says_where_it_came_from() -> None:
    base = RuntimeBase("runc", "1.1.5", frozenset({"fstatfs", "getdents64", "execve"}), "traced")
    profile = SeccompProfile.from_trace({"read", "clone3"}, runtime=base)
    assert {"fstatfs", "getdents64", "execve"} <= set(profile.allowed)
    assert ALWAYS <= set(profile.allowed)
    assert "clone" in profile.allowed  # glibc's fallback when a runtime answers clone3 with ENOSYS
    assert {"clock_getres", "clock_gettime"} <= set(profile.allowed)  # vDSO calls a trace rarely sees
    assert profile.runtime == base and profile.with_calls(["pipe2"]).runtime == base
    without = SeccompProfile.from_trace({"read", "clone3"})
    assert "fstatfs" not in without.allowed and without.runtime is None


def test_versions_are_named_as_the_runtime_prints_them() -> None:
    runc = "runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\n"
    runc += "libseccomp: 2.5.4"
    assert describe_version(runc) == "1.1.5+ds1 (commit 1.1.5+ds1-1+deb12u1, libseccomp 2.5.4)"
    assert describe_version("runsc version 0.0~20221219.0\nspec: 1.0.2-dev") == "0.0~20221219.0"

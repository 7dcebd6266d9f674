"""Build the OCI seccomp profile from a trace, and the same profile as a SeccompProfile object."""

from __future__ import annotations

from dataclasses import dataclass

from . import syscalls
from .jsontypes import JSONObject

# What the container runtime itself calls after it installs the filter and before/at execve of the
# app (runc applies seccomp as late as possible, right before exec, but its Go runtime keeps running):
# without these the container cannot even start.
RUNTIME_BASE = frozenset(
    {
        "execve",
        "futex",
        "nanosleep",
        "sched_yield",
        "rt_sigprocmask",
        "rt_sigaction",
        "sigaltstack",
        "tgkill",
        "gettid",
        "getpid",
        "mmap",
        "munmap",
        "madvise",
        "close",
        "fcntl",
        "read",
        "write",
        "epoll_pwait",
        "epoll_ctl",
        "capget",
        "capset",
        "prctl",
        "setgroups",
        "setresuid",
        "setresgid",
        "fstat",
        "newfstatat",
        "openat",
        "brk",
        "arch_prctl",
    }
)
# Always allowed: a process must be able to exit, return from signal handlers and wait on locks.
ALWAYS = frozenset({"exit", "exit_group", "rt_sigreturn", "futex"})
# The C library and interpreter call these depending on memory and timing, not on what the app does
# (glibc realloc of a large block uses mremap; sleeps restart after signals), so one trace can miss
# them although any run may need them.
LIBC_VARIABLE = frozenset(
    {
        "mremap",
        "clock_nanosleep",
        "nanosleep",
        "restart_syscall",
        "sched_yield",
        "getrandom",
        "clock_gettime",
        "gettimeofday",
    }
)
# A system interpreter (the image's, unlike a venv's) checks its identity at start-up: site.py enables
# user site-packages only when euid == uid. Harmless queries, needed by every Python image.
INTERPRETER_START = frozenset({"getuid", "geteuid", "getgid", "getegid"})
# Docker's default profile (moby profiles/seccomp/default.json) allows about this many names.
DOCKER_DEFAULT_ALLOWED = 361
# Calls a profile must never allow, and which the verification shows refused.
MUST_REFUSE = ("mount", "ptrace")


@dataclass(frozen=True)
class SeccompProfile:
    """An allow-list profile: everything not listed fails with EPERM."""

    allowed: list[str]
    arch: str = "x86_64"
    traced: frozenset[str] = frozenset()

    @classmethod
    def from_trace(cls, traced: set[str], arch: str = "x86_64") -> SeccompProfile:
        """Traced calls plus the runtime, libc and interpreter base sets and ALWAYS; names checked."""
        known, _unknown = syscalls.split_known(
            traced | RUNTIME_BASE | ALWAYS | LIBC_VARIABLE | INTERPRETER_START, arch
        )
        # If the app itself called mount or ptrace they stay allowed, and the refusal check says so.
        return cls(sorted(known), arch, frozenset(syscalls.split_known(traced, arch)[0]))

    def oci(self) -> JSONObject:
        """The OCI / Docker seccomp JSON (defaultAction SCMP_ACT_ERRNO)."""
        return {
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 1,  # EPERM, as Docker's own profile
            "architectures": syscalls.OCI_ARCHES[self.arch],
            "syscalls": [{"names": self.allowed, "action": "SCMP_ACT_ALLOW"}],
        }

    def spo(self, name: str, namespace: str) -> JSONObject:
        """The same rules as a Security Profiles Operator SeccompProfile object."""
        return {
            "apiVersion": "security-profiles-operator.x-k8s.io/v1beta1",
            "kind": "SeccompProfile",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "defaultAction": "SCMP_ACT_ERRNO",
                "architectures": syscalls.OCI_ARCHES[self.arch],
                "syscalls": [{"names": self.allowed, "action": "SCMP_ACT_ALLOW"}],
            },
        }

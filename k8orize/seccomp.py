"""Build the OCI seccomp profile from a trace, and the same profile as a SeccompProfile object.

The allow-list is the app's traced calls plus base sets: what the container runtime calls after
installing the filter (traced from the runtime itself, `k8orize.runtime_base`), and the few calls the C
library and the interpreter make depending on memory and timing rather than on what the app does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from . import syscalls
from .jsontypes import JSONObject
from .runtime_base import RuntimeBase

# Always allowed: a process must be able to exit, return from signal handlers and wait on locks.
ALWAYS = frozenset({"exit", "exit_group", "rt_sigreturn", "futex"})
# Memory comes and goes with load and timing, not with what the app's code says, so one trace can miss a
# call any later run may need. glibc's malloc grows and shrinks the main arena with brk, serves large
# blocks with mmap and munmap and moves them with mremap (realloc); a thread's arena grows with mprotect
# and hands freed pages back with madvise(MADV_DONTNEED), as glibc does with the stack of every thread
# that exits (an idle worker thread retires after a timeout: FastAPI's thread pool under runc, issue 11);
# CPython's allocator maps and unmaps its arenas as objects come and go.
MEMORY = frozenset({"brk", "mmap", "munmap", "mremap", "mprotect", "madvise"})
# Timing: a sleep or wait interrupted by a signal resumes through restart_syscall; sleeps and yields
# happen when a lock or a poll loop is busy; entropy is asked for whenever a module first seeds itself.
TIMING = frozenset({"clock_nanosleep", "nanosleep", "restart_syscall", "sched_yield", "getrandom"})
# glibc answers these from the kernel's vDSO without a system call, so a trace on Linux rarely sees
# them; where the vDSO lacks one (gVisor's has no clock_getres: asyncio's loop then fails) glibc makes
# the real call.
VDSO = frozenset({"clock_gettime", "clock_getres", "gettimeofday", "time", "getcpu"})
# When a runtime answers a newer call with ENOSYS, glibc retries with the older one: gVisor does not
# implement clone3 (pthread_create then uses clone), runc answers ENOSYS for calls newer than any the
# profile names, older kernels lack them. Where the trace shows the newer call, the older one is allowed.
LIBC_FALLBACKS = {
    "clone3": ("clone",),
    "faccessat2": ("faccessat",),
    "close_range": ("close",),
    "epoll_pwait2": ("epoll_pwait",),
    "statx": ("newfstatat",),
    "copy_file_range": ("read", "write"),
}
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
    runtime: RuntimeBase | None = None  # the container runtime whose own calls the profile allows

    @classmethod
    def from_trace(
        cls, traced: set[str], arch: str = "x86_64", *, runtime: RuntimeBase | None = None
    ) -> SeccompProfile:
        """Traced calls, their libc fallbacks, the runtime's, the memory, timing, vDSO and interpreter
        base sets and ALWAYS; names checked.

        Without `runtime` the profile holds only what the process itself needs (a filter loaded right
        before execve); a container runtime that keeps running under the filter needs its base too.
        """
        base = runtime.syscalls if runtime else frozenset()
        fallbacks = {old for new in traced & LIBC_FALLBACKS.keys() for old in LIBC_FALLBACKS[new]}
        known, _unknown = syscalls.split_known(
            traced | base | fallbacks | ALWAYS | MEMORY | TIMING | VDSO | INTERPRETER_START, arch
        )
        # If the app itself called mount or ptrace they stay allowed, and the refusal check says so.
        return cls(sorted(known), arch, frozenset(syscalls.split_known(traced, arch)[0]), runtime)

    def with_calls(self, names: Iterable[str]) -> SeccompProfile:
        """The same profile allowing `names` too (calls a later run showed it needs)."""
        return replace(self, allowed=sorted(set(self.allowed) | set(names)))

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

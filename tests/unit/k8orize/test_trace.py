"""strace output parsing: names, opened files, split calls, refusals, and the enforcement marker."""

from __future__ import annotations

from k8orize.trace import FILTER_LOADED, parse_lines

SAMPLE = """\
100 execve("/usr/bin/python3", ["python3", "app.py"], 0x7ffd /* 3 vars */) = 0
100 openat(AT_FDCWD, "/venv/lib/python3.11/site-packages/streamlit/__init__.py", O_RDONLY|O_CLOEXEC) = 3
100 openat(AT_FDCWD, "/missing.py", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)
100 pread64(3, "\\177ELF", 784, 64) = 784
101 futex(0x7f, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>
100 openat(AT_FDCWD, "/etc/ssl/certs/ca.pem", O_RDONLY <unfinished ...>
101 <... futex resumed>) = 0
100 <... openat resumed>)             = 4
100 mount("none", "/mnt", "tmpfs", 0, NULL) = -1 EPERM (Operation not permitted)
100 ptrace(PTRACE_TRACEME)            = -1 EPERM (Operation not permitted)
100 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=1} ---
102 epoll_wait(5,  <unfinished ...>
100 exit_group(0)                     = ?
100 +++ exited with 0 +++
"""


def test_names_counts_and_files() -> None:
    trace = parse_lines(SAMPLE.splitlines())
    assert trace.syscalls == {
        "execve",
        "openat",
        "pread64",
        "futex",
        "mount",
        "ptrace",
        "epoll_wait",
        "exit_group",
    }
    assert trace.calls["openat"] == 3
    assert trace.opened == {
        "/usr/bin/python3",
        "/venv/lib/python3.11/site-packages/streamlit/__init__.py",
        "/etc/ssl/certs/ca.pem",  # split by another thread's call, and padded as strace pads it
    }
    assert trace.refused == {"mount": 1, "ptrace": 1}  # a short call's result is padded too
    assert trace.pids == {100, 101, 102}


def test_counting_starts_after_the_filter_is_loaded() -> None:
    lines = [
        "7 seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, NULL) = -1 EFAULT (Bad address)",
        '7 getcwd("/", 4096) = 2',
        "7 seccomp(SECCOMP_SET_MODE_FILTER, 0, {len=234, filter=0x5636beecf440}) = 0",
        '7 execve("/bin/true", ["/bin/true"], 0x7f /* 1 var */) = 0',
        "7 exit_group(0) = ?",
    ]
    assert parse_lines(lines, after_marker=FILTER_LOADED).syscalls == {"execve", "exit_group"}

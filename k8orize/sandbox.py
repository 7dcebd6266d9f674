"""A bubblewrap sandbox for every piece of the app's code: its build backends, its install, its runs.

Each command runs in fresh user, pid, ipc, uts, mount, cgroup and network namespaces (loopback only,
and nothing listens there but the app), as the app's dedicated UID/GID, with an environment built from
scratch. It sees the system's /usr, the interpreter, a few synthesized /etc files, a private /tmp, its
own /proc and a minimal /dev, plus exactly the folders its caller names (read-only unless named
writable): never the caller's data folder, home, /tmp, /proc or environment. `prlimit` caps CPU time,
address space, processes and file size inside; `run` adds a wall clock.

As root, bubblewrap itself runs as the dedicated UID, so the app holds no privilege outside either
(and the process cap counts only its processes); a folder that UID cannot reach is first mirrored
with hard links into a private folder it can, and bound at its own path, so paths stay the same.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import IO, TYPE_CHECKING

from . import messages
from .app_user import traversable
from .errors import K8orizeError

if TYPE_CHECKING:
    from .request import K8orizeRequest

SANDBOX_HOME = "/tmp/home"
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
DATA_DIR = "/run/k8or"  # where synthesized files (a seccomp profile) appear inside
ENGINE_DIR = Path(__file__).resolve().parent  # the engine's own package: the run harness, drivers, enforce.py
PROBE_UID = 65534  # who the availability check runs as, when root (nobody)
OUTPUT_CAP = 64 * 2**20  # bytes of a sandbox's output kept in its log
_SYSTEM_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/mime.types", "/etc/alternatives")


class SandboxUnavailable(K8orizeError):
    """The app would have to run, and bubblewrap cannot sandbox it on this host."""


@dataclass(frozen=True)
class SandboxLimits:
    """What one sandboxed command may use. Per process: CPU seconds, address space and file size;
    per sandbox: processes (threads count) and the private /tmp; wall clocks for installs and runs."""

    cpu_seconds: int = 600
    memory_bytes: int = 6 * 2**30
    processes: int = 1024
    file_bytes: int = 4 * 2**30
    tmp_bytes: int = 1 * 2**30
    install_seconds: float = 900.0
    run_extra_seconds: float = 90.0  # beyond a run's own probe and session timeouts

    def prlimit(self) -> list[str]:
        """The `prlimit` prefix that applies these limits to everything it starts."""
        return [
            "prlimit",
            f"--cpu={self.cpu_seconds}",
            f"--as={self.memory_bytes}",
            f"--nproc={self.processes}",
            f"--fsize={self.file_bytes}",
            "--",
        ]


@dataclass(frozen=True)
class View:
    """What one sandboxed command sees besides the system and the interpreter."""

    readonly: tuple[Path, ...] = ()
    writable: tuple[Path, ...] = ()
    files: Mapping[str, bytes] = field(default_factory=dict)  # path inside -> content
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None


@dataclass
class Launch:
    """A ready bubblewrap command: its argv, the descriptors it needs, and as whom to start it."""

    argv: list[str]
    fds: tuple[int, ...]
    user: int | None

    def start(
        self, stdin: int | IO[bytes] | None, stdout: int | IO[bytes], stderr: int | IO[bytes]
    ) -> Popen[bytes]:
        """Start bwrap with a bare environment (it clears the sandbox's anyway), as the dedicated UID
        when root; the data descriptors are closed here once bwrap holds them."""
        groups: list[int] | None = [] if self.user is not None else None
        try:
            return subprocess.Popen(
                self.argv,
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                pass_fds=self.fds,
                env={"PATH": SANDBOX_PATH, "LANG": "C.UTF-8"},
                cwd="/",
                start_new_session=True,
                user=self.user,
                group=self.user,
                extra_groups=groups,
            )
        finally:
            for fd in self.fds:
                os.close(fd)


@functools.cache
def unavailable_reason() -> str | None:
    """Why bubblewrap cannot sandbox here (None when it can). Tried once per process."""
    for tool, package in (("bwrap", "bubblewrap"), ("prlimit", "util-linux")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install {package})"
    cmd = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent"]
    launch = Launch([*cmd, "--ro-bind", "/", "/", "true"], (), PROBE_UID if os.geteuid() == 0 else None)
    try:
        proc = launch.start(subprocess.DEVNULL, subprocess.DEVNULL, subprocess.PIPE)
        _, err = proc.communicate(timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap did not start ({exc})"
    if proc.returncode != 0:
        why = (err.decode(errors="replace").strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return f"bubblewrap cannot create a user namespace here ({why})"
    return None


def base_python() -> str:
    """The real interpreter behind the engine's own venv: what runs the engine's helpers inside."""
    return getattr(sys, "_base_executable", None) or sys.executable


def base_prefix() -> Path:
    """The interpreter installation every venv here points at (and that the sandbox binds)."""
    return Path(sys.base_prefix).resolve()


def _site_folders(prefix: Path) -> list[Path]:
    """The base installation's own site-packages: hidden inside, so only the app's venv counts."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return [prefix / lib / version / "site-packages" for lib in ("lib", "lib64")]


def _data_fd(content: bytes) -> int:
    fd = os.memfd_create("k8or-sandbox-file", 0)
    os.write(fd, content)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


class SandboxHost:
    """Runs commands in the sandbox for one app (one k8orization): its UID, its limits, its folders.

    `area` is where the caller puts what the sandbox reads or writes (the venv, the downloads); the
    caller's own scratch folder unless bubblewrap must run as the dedicated UID, which then gets a
    private folder of its own under the system temp dir (removed by `close`, or when collected).
    """

    def __init__(self, uid: int, limits: SandboxLimits, scratch: Path) -> None:
        self.uid, self.limits = uid, limits
        self.as_root = os.geteuid() == 0
        self.area = scratch
        self._mirrors: dict[Path, Path] = {}
        self._finalizer: Callable[[], object] | None = None
        if self.as_root:
            self.area = Path(tempfile.mkdtemp(prefix="k8orize-sandbox-"))
            self.area.chmod(0o711)  # the UID may pass through to what is bound, never list it
            self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.area), True)

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()

    # -- folders -----------------------------------------------------------------------------------
    def folder(self, name: str, *, writable: bool = False) -> Path:
        """A fresh folder in the area; a writable one belongs to the sandbox's UID."""
        path = self.area / name
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o755)
        if writable:
            self.hand_over(path)
        return path

    def hand_over(self, path: Path) -> None:
        """Let the sandbox's UID write into path (a no-op unless bubblewrap runs as that UID)."""
        if not self.as_root:
            return
        for entry in [path, *path.rglob("*")]:
            os.lchown(entry, self.uid, self.uid)

    def reachable(self, path: Path) -> Path:
        """A host path bwrap can bind as the sandbox's UID: path itself, or a hard-linked mirror of it."""
        path = path.resolve()
        if not self.as_root or (traversable(path) and os.access(path, os.R_OK)):
            return path
        if path not in self._mirrors:
            mirror = self.area / "mirrors" / str(len(self._mirrors)) / path.name
            _mirror(path, mirror, skip=_site_folders(path) if path == base_prefix() else [])
            self._mirrors[path] = mirror
        return self._mirrors[path]

    # -- commands ----------------------------------------------------------------------------------
    def command(self, argv: list[str], view: View) -> Launch:
        """The bwrap command that runs argv under the limits with view (no network: loopback only)."""
        fds: list[int] = []
        args = self._namespaces() + self._system(fds)
        for path in view.readonly:
            args += ["--ro-bind", str(self.reachable(path)), str(path.resolve())]
        for path in view.writable:
            args += ["--bind", str(path), str(path)]
        for dest, content in view.files.items():
            fds.append(_data_fd(content))
            args += ["--ro-bind-data", str(fds[-1]), dest]
        args += self._environment(view)
        return Launch(["bwrap", *args, "--", *self.limits.prlimit(), *argv], tuple(fds), self._outside_user)

    @property
    def _outside_user(self) -> int | None:
        return self.uid if self.as_root else None

    def _namespaces(self) -> list[str]:
        args = ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"]
        args += ["--uid", str(self.uid), "--gid", str(self.uid), "--hostname", "k8orize-sandbox"]
        return args + ["--cap-drop", "ALL"]

    def _system(self, fds: list[int]) -> list[str]:
        """/usr and its top-level links, a few /etc files, the interpreter, /proc, /dev and /tmp."""
        args = ["--ro-bind", "/usr", "/usr"]
        for name in _SYSTEM_LINKS:
            top = Path("/") / name
            if top.is_symlink():
                args += ["--symlink", os.readlink(top), str(top)]
            elif top.is_dir():
                args += ["--ro-bind", str(top), str(top)]
        for path in _SYSTEM_FILES:
            args += ["--ro-bind-try", path, path]
        for dest, content in self._etc().items():
            fds.append(_data_fd(content))
            args += ["--ro-bind-data", str(fds[-1]), dest]
        prefix = base_prefix()
        bound = prefix if prefix.is_relative_to("/usr") else self.reachable(prefix)
        if not prefix.is_relative_to("/usr"):
            args += ["--ro-bind", str(bound), str(prefix)]
        for site in _site_folders(prefix):
            if (bound / site.relative_to(prefix)).is_dir():
                args += ["--tmpfs", str(site)]
        args += ["--proc", "/proc", "--dev", "/dev"]
        args += ["--perms", "1777", "--size", str(self.limits.tmp_bytes), "--tmpfs", "/tmp"]
        # After the private /tmp, which would otherwise hide an engine installed under /tmp (a CI clone).
        args += ["--ro-bind", str(self.reachable(ENGINE_DIR)), str(ENGINE_DIR)]
        return args + ["--dir", SANDBOX_HOME]

    def _etc(self) -> dict[str, bytes]:
        uid = self.uid
        return {
            "/etc/passwd": f"app:x:{uid}:{uid}:k8orize sandbox:{SANDBOX_HOME}:/usr/sbin/nologin\n".encode(),
            "/etc/group": f"app:x:{uid}:\n".encode(),
            "/etc/hosts": b"127.0.0.1 localhost k8orize-sandbox\n::1 localhost ip6-localhost\n",
            "/etc/nsswitch.conf": b"passwd: files\ngroup: files\nhosts: files\n",
        }

    def _environment(self, view: View) -> list[str]:
        env = {"PATH": SANDBOX_PATH, "HOME": SANDBOX_HOME, "TMPDIR": "/tmp", "LANG": "C.UTF-8"}
        args = ["--clearenv"]
        for key, value in {**env, **view.env}.items():
            args += ["--setenv", key, value]
        return args + ["--chdir", str(view.cwd or SANDBOX_HOME)]

    def run(self, argv: list[str], view: View, log: Path, timeout: float) -> int:
        """Run argv in the sandbox, appending its output to log; its exit code (-9 when the wall
        clock ran out and the whole sandbox was killed)."""
        launch = self.command(argv, view)
        proc = launch.start(subprocess.DEVNULL, subprocess.PIPE, subprocess.STDOUT)
        with OutputCopy(proc.stdout, log):
            return wait_or_kill(proc, timeout)


class OutputCopy:
    """Copies a sandbox's output from a pipe into a log, up to OUTPUT_CAP bytes, in a thread.

    The sandbox gets a pipe, never the log file itself, so it cannot reopen the file (through
    /proc/self/fd) to read what the engine logged; the cap keeps a chatty app from filling the disk.
    """

    def __init__(self, pipe: IO[bytes] | None, log: Path) -> None:
        self.pipe, self.log = pipe, log
        self._thread = threading.Thread(target=self._copy, name="k8orize-sandbox-output", daemon=True)

    def __enter__(self) -> OutputCopy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join()

    def _copy(self) -> None:
        if self.pipe is None:
            return
        left = OUTPUT_CAP
        with self.pipe, self.log.open("ab") as log:
            while chunk := os.read(self.pipe.fileno(), 65536):
                if left > 0:
                    log.write(chunk[:left])
                    log.flush()
                    left -= len(chunk)
                    if left <= 0:
                        log.write(f"\n[k8orize: output beyond {OUTPUT_CAP} bytes dropped]\n".encode())


def open_sandbox(
    uid: int, request: K8orizeRequest, scratch: Path, not_verified: list[str]
) -> SandboxHost | None:
    """The app's sandbox; None (said in not_verified) only when the request asks for no sandbox.
    Raises SandboxUnavailable, naming why, when bubblewrap cannot run here."""
    if request.unsafe_no_sandbox:
        not_verified.append(messages.UNSANDBOXED)
        return None
    why = unavailable_reason()
    if why is not None:
        raise SandboxUnavailable(messages.SANDBOX_UNAVAILABLE.format(why=why))
    return SandboxHost(uid, request.limits, scratch)


def wait_or_kill(proc: subprocess.Popen[bytes], timeout: float) -> int:
    """Wait for a sandbox; past timeout kill bwrap, which takes everything inside with it."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return -9


def _mirror(src: Path, dst: Path, skip: list[Path]) -> None:
    """Hard-link src (a file or a tree) at dst, copying across filesystems; folders world-readable."""
    for folder in (dst.parent.parent, dst.parent):
        folder.mkdir(exist_ok=True)
        folder.chmod(0o711)

    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    if not src.is_dir():
        link(str(src), str(dst))
        return
    skipped = {str(p) for p in skip}
    shutil.copytree(
        src,
        dst,
        symlinks=True,
        copy_function=link,
        ignore=lambda folder, names: [n for n in names if os.path.join(folder, n) in skipped],
    )
    for folder in [dst, *(p for p in dst.rglob("*") if p.is_dir() and not p.is_symlink())]:
        folder.chmod(folder.stat().st_mode | 0o555)

"""The seccomp profile's base set, learned from the container runtime itself.

runc installs a container's seccomp filter in its init process and then keeps running its own Go code
until it execs the app: it closes file descriptors, checks that /proc/self/fd is on procfs (`fstatfs`),
lists and closes the leftover ones, signals its parent and only then calls `execve`. Every one of those
calls meets the app's profile. So the base is what runc's init makes between installing the filter and
`execve`, seen with `strace -f` on a trivial container started with the settings every k8orized pod
has (a non-root user, no capabilities, `noNewPrivileges`, read-only root), both through `runc run`
and `runc exec`. The set depends on the runtime's version only, so it is traced once per version and
cached under $K8OR_CACHE (default ~/.cache/k8or).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import messages, oci, syscalls
from .errors import K8orizeError, ToolMissing
from .jsontypes import JSONObject
from .report_schema import RuntimeBaseJSON
from .runtimes import ContainerRuntime, version_text

#: Bump when the derivation changes: cached sets from an older scheme are traced again.
SCHEME = 1
#: What the trivial container runs: two small host binaries and the libraries they link.
_BINARIES = ("/bin/true", "/bin/sleep")
_NOBODY = 65534
_RUNS = 3  # `runc run` traces; the scheduling of runc's goroutines varies a little from run to run
_TIMEOUT = 60.0

_LINE = re.compile(r"^(\d+)\s+(.*)$")
_CALL = re.compile(r"^([a-z0-9_]+)\(")
_RESUMED = re.compile(r"^<\.\.\. ([a-z0-9_]+) resumed>(.*)$")
_UNFINISHED = " <unfinished ...>"
_INSTALL = re.compile(r"^(?:seccomp\(SECCOMP_SET_MODE_FILTER|prctl\(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)")
# With --pidns-translation strace prints a thread id made inside a pid namespace as `3 /* 1234 in ... */`.
_NEW_TID = re.compile(r"= (\d+)(?: /\* (\d+) in strace's PID NS \*/)?$")


class RuntimeBaseFailed(K8orizeError):
    """The runtime could not be traced (the message says why)."""


@dataclass(frozen=True)
class RuntimeBase:
    """What a container runtime calls under the app's filter before the app runs."""

    runtime: str  # "runc"
    version: str  # "1.1.5+ds1 (commit ..., libseccomp 2.5.4)"
    syscalls: frozenset[str]
    how: str  # one line: how the set was found

    def as_json(self) -> RuntimeBaseJSON:
        syscalls = sorted(self.syscalls)
        return RuntimeBaseJSON(runtime=self.runtime, version=self.version, syscalls=syscalls, how=self.how)


# -- reading the trace ----------------------------------------------------------------------------------
def _complete_calls(lines: Iterable[str]) -> Iterator[tuple[int, str, str]]:
    """(tid, name, whole line) per finished call, an interrupted call joined with its resumption."""
    pending: dict[int, str] = {}
    for line in lines:
        match = _LINE.match(line.rstrip("\n"))
        if not match:
            continue
        tid, rest = int(match.group(1)), match.group(2)
        if rest.endswith(_UNFINISHED):
            pending[tid] = rest[: -len(_UNFINISHED)]
            continue
        resumed = _RESUMED.match(rest)
        if resumed:
            rest = pending.pop(tid, resumed.group(1) + "(") + resumed.group(2)
        call = _CALL.match(rest)
        if call:
            yield tid, call.group(1), rest


def _succeeded(text: str) -> bool:
    return text.rstrip().endswith("= 0")


def calls_after_filter(lines: Iterable[str]) -> dict[str, int]:
    """Every call a thread makes after it installed a seccomp filter, up to its successful execve.

    The install is the successful `seccomp(SECCOMP_SET_MODE_FILTER, ..., {filter=...})` or
    `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ...)`; with SECCOMP_FILTER_FLAG_TSYNC every thread of
    the process is filtered from then on, and threads created by a filtered thread inherit its filter.
    Raises RuntimeBaseFailed when no filter was installed.
    """
    leader: dict[int, int] = {}
    filtered: set[int] = set()
    counts: dict[str, int] = {}
    installed = False
    for tid, name, text in _complete_calls(lines):
        leader.setdefault(tid, tid)
        child = _thread_created(name, text)
        if child is not None:
            leader[child] = leader[tid]
            if tid in filtered:
                filtered.add(child)
        if tid in filtered:
            counts[name] = counts.get(name, 0) + 1
            if name in ("execve", "execveat") and _succeeded(text):
                filtered.discard(tid)
        elif _INSTALL.match(text) and "filter=" in text and _succeeded(text):
            installed = True
            group = {t for t, lead in leader.items() if lead == leader[tid]}
            filtered |= group if "SECCOMP_FILTER_FLAG_TSYNC" in text else {tid}
    if not installed:
        raise RuntimeBaseFailed("no seccomp filter was installed in the traced run")
    return counts


def _thread_created(name: str, text: str) -> int | None:
    """The id of the thread a clone/clone3 with CLONE_THREAD made (as strace's own pid namespace sees it)."""
    if name not in ("clone", "clone3") or "CLONE_THREAD" not in text:
        return None
    match = _NEW_TID.search(text.rstrip())
    return int(match.group(2) or match.group(1)) if match else None


# -- tracing the runtime ----------------------------------------------------------------------------------
#: Allows everything but one call nobody makes: a real filter is installed, and none of runc's own calls
#: is refused, so none of its paths is cut short.
_PERMISSIVE: JSONObject = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": syscalls.OCI_ARCHES["x86_64"],
    "syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO"}],
}


def _linked_libraries(binary: str) -> list[str]:
    """The shared objects `binary` loads, as ldd resolves them on this host."""
    proc = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=30, check=False)
    return re.findall(r"(/\S+) \(0x", proc.stdout)


def trivial_rootfs(root: Path) -> Path:
    """A root filesystem holding /bin/true and /bin/sleep and their libraries, copied from the host."""
    for source in {path for binary in _BINARIES for path in (binary, *_linked_libraries(binary))}:
        target = root / source.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)  # follows links: /bin may itself be a link on merged-/usr hosts
    for folder in ("proc", "dev", "sys", "tmp", "etc"):
        (root / folder).mkdir(exist_ok=True)
    return root


def _bundle(folder: Path, rootfs: Path, args: tuple[str, ...]) -> Path:
    """A bundle with the settings of every k8orized pod: non-root, no capabilities, no_new_privs."""
    spec = oci.ContainerSpec(
        args=args,
        env=("PATH=/bin",),
        cwd="/",
        uid=_NOBODY,
        gid=_NOBODY,
        hostname="k8or-runtime-base",
        scratch=("/tmp",),
    )
    return oci.write_bundle(folder, oci.bundle_config(spec, rootfs, seccomp=_PERMISSIVE))


def _strace(output: Path) -> list[str]:
    return ["strace", "-f", "-qq", "-s", "0", "--pidns-translation", "-o", str(output)]


def _traced(cmd: list[str], output: Path) -> dict[str, int]:
    proc = subprocess.run(
        _strace(output) + cmd, capture_output=True, text=True, timeout=_TIMEOUT, check=False
    )
    if proc.returncode != 0:
        raise RuntimeBaseFailed(
            f"`{' '.join(cmd[:1] + cmd[-3:])}` exited {proc.returncode}: {proc.stderr[-300:]}"
        )
    with output.open(encoding="utf-8", errors="replace") as handle:
        return calls_after_filter(handle)


def _traced_exec(runtime: ContainerRuntime, work: Path, rootfs: Path) -> dict[str, int]:
    """`exec /bin/true` into a running container (what exec probes and `kubectl exec` go through)."""
    bundle, cid = _bundle(work / "bundle-exec", rootfs, ("/bin/sleep", "30")), f"k8or-base-exec-{os.getpid()}"
    with (work / "exec.log").open("wb") as log:
        container = runtime.start(bundle, cid, log)
    try:
        if not runtime.wait_running(cid, 20.0):
            raise RuntimeBaseFailed(
                f"the traced container did not start: {(work / 'exec.log').read_text()[-300:]}"
            )
        return _traced(runtime.argv("exec", cid, "/bin/true"), work / "exec.strace")
    finally:
        runtime.kill(cid, "KILL")
        container.wait(timeout=_TIMEOUT)
        runtime.delete(cid)


def trace_runtime(runtime: ContainerRuntime, work: Path) -> dict[str, int]:
    """Every call runc's init makes under the filter, over a few `run`s and one `exec`."""
    rootfs = trivial_rootfs(work / "rootfs")
    bundle = _bundle(work / "bundle-run", rootfs, ("/bin/true",))
    counts: dict[str, int] = {}
    for index in range(_RUNS):
        cid = f"k8or-base-{os.getpid()}-{index}"
        try:
            found = _traced(runtime.argv("run", "--bundle", str(bundle), cid), work / f"run-{index}.strace")
        finally:
            runtime.delete(cid)
        counts = {n: counts.get(n, 0) + found.get(n, 0) for n in {*counts, *found}}
    found = _traced_exec(runtime, work, rootfs)
    return {n: counts.get(n, 0) + found.get(n, 0) for n in {*counts, *found}}


_NEEDS_ROOT = "tracing the runtime needs root (it starts containers)"


def derive(runtime: ContainerRuntime) -> RuntimeBase:
    """Trace `runtime` now (needs root and strace)."""
    if os.geteuid() != 0:
        raise RuntimeBaseFailed(_NEEDS_ROOT)
    if shutil.which("strace") is None:
        raise ToolMissing(
            messages.TOOL_MISSING.format(
                tool="strace", purpose="trace the runtime", hint="apt-get install strace"
            )
        )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="k8or-runtime-base-") as tmp:
        counts = trace_runtime(runtime, Path(tmp))
    known, _unknown = syscalls.split_known(set(counts))
    how = (
        f"strace -f of {runtime.name}'s init between installing the filter and execve: {_RUNS} `run`s and "
        f"one `exec` of a trivial container as UID {_NOBODY}, no capabilities, no_new_privs "
        f"({time.monotonic() - started:.1f}s, {time.strftime('%Y-%m-%d')})"
    )
    return RuntimeBase(runtime.name, runtime.version(), frozenset(known), how)


# -- the cache ----------------------------------------------------------------------------------------------
def cache_dir() -> Path:
    return Path(os.environ.get("K8OR_CACHE") or Path.home() / ".cache" / "k8or") / "runtime-base"


def _cache_path(runtime: ContainerRuntime) -> Path:
    key = hashlib.sha256(f"{SCHEME}\n{runtime.name}\n{version_text(runtime.executable)}".encode()).hexdigest()
    return cache_dir() / f"{runtime.name}-{key[:16]}.json"


def _load(path: Path) -> RuntimeBase | None:
    try:
        data = json.loads(path.read_text())
        names = {str(n) for n in data["syscalls"]}
        known, unknown = syscalls.split_known(names)
        if unknown or not known:
            return None
        return RuntimeBase(str(data["runtime"]), str(data["version"]), frozenset(known), str(data["how"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(path: Path, base: RuntimeBase) -> None:
    """Best effort: a read-only home only means tracing again next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_text(json.dumps(base.as_json(), indent=1) + "\n")
        partial.replace(path)
    except OSError:
        pass


def require(runtime: ContainerRuntime) -> None:
    """Fail now, before the app is installed and traced, when the base can neither come from the cache
    nor be traced here."""
    if os.geteuid() != 0 and _load(_cache_path(runtime)) is None:
        raise RuntimeBaseFailed(messages.RUNTIME_BASE_FAILED.format(runtime=runtime.name, why=_NEEDS_ROOT))


def runtime_base(runtime: ContainerRuntime, refresh: bool = False) -> RuntimeBase:
    """The runtime's base set: from the cache when this version was traced before, else traced now."""
    path = _cache_path(runtime)
    cached = None if refresh else _load(path)
    if cached is not None:
        return cached
    try:
        base = derive(runtime)
    except (OSError, subprocess.SubprocessError) as exc:
        raise RuntimeBaseFailed(messages.RUNTIME_BASE_FAILED.format(runtime=runtime.name, why=exc)) from exc
    except RuntimeBaseFailed as exc:
        raise RuntimeBaseFailed(messages.RUNTIME_BASE_FAILED.format(runtime=runtime.name, why=exc)) from None
    _store(path, base)
    return base

"""The container runtime: what a container "does", since nothing really runs.

An app container's behaviour comes from its image name (markers below) or a per-test script. A
container with a command runs a tiny shell (cp, du, echo, mkdir, ls, cat, sleep, exit) over modelled
file trees: the image's own files and, per PersistentVolumeClaim, the bytes stored on the claim. So a
copy into a claim and `du -sb` on both sides give real, consistent figures.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

RUN, PULL_FAIL, CRASH, NEVER_READY = "run", "pull-fail", "crash", "never-ready"
IGNORE_SIGTERM = "ignore-sigterm"  # runs, and on deletion runs on until the grace period is over
OOMKILL = "oomkill"  # runs past its memory limit: killed (OOMKilled, 137), restarted, CrashLoopBackOff
EVICT = "evict"  # runs until the node runs low on memory; the kubelet evicts the pod (once per owner)
MARKERS = {
    "pullfail": PULL_FAIL,
    "doesnotexist": PULL_FAIL,
    "crashloop": CRASH,
    "neverready": NEVER_READY,
    "ignoresigterm": IGNORE_SIGTERM,
    "oomkill": OOMKILL,
    "evicted": EVICT,
}
STOP_SECONDS = 2.0  # fake seconds a container takes to exit on SIGTERM
DIR_BYTES = 4096  # du -sb counts each directory's apparent size, 4096 on ext4

Tree = dict[str, int]  # relative file path -> size in bytes


@dataclass
class Mount:
    path: str
    tree: Tree
    read_only: bool = False


@dataclass
class ShellResult:
    exit_code: int
    output: str


def image_repo(image: str) -> str:
    """`docker.io/library/app:1.0@sha256:…` → `docker.io/library/app` (the part file trees are keyed by)."""
    image = image.split("@", 1)[0]
    head, _, tail = image.rpartition("/")
    return (head + "/" if head else "") + tail.split(":", 1)[0]


@dataclass
class ContainerRuntime:
    """Per-fake runtime state: image contents, claim contents, behaviour scripts."""

    images: dict[str, Tree] = field(default_factory=dict)
    claims: dict[tuple[str, str], Tree] = field(default_factory=dict)
    scripts: list[tuple[Callable[[str], bool], str]] = field(default_factory=list)

    def behaviour(self, image: str) -> str:
        """RUN unless a script or a marker in the image name says otherwise."""
        for predicate, behaviour in self.scripts:
            if predicate(image):
                return behaviour
        return next((b for marker, b in MARKERS.items() if marker in image), RUN)

    def claim_tree(self, namespace: str, claim: str) -> Tree:
        return self.claims.setdefault((namespace, claim), {})

    def mounts_for(self, namespace: str, pod_spec: dict, container: dict) -> list[Mount]:
        volumes = {v["name"]: v for v in pod_spec.get("volumes") or []}
        mounts = []
        for m in container.get("volumeMounts") or []:
            source = volumes.get(m["name"], {})
            claim = (source.get("persistentVolumeClaim") or {}).get("claimName")
            tree = self.claim_tree(namespace, claim) if claim else {}
            mounts.append(Mount(posixpath.normpath(m["mountPath"]), tree, bool(m.get("readOnly"))))
        return mounts

    def run(self, namespace: str, pod_spec: dict, container: dict) -> ShellResult:
        """Run a container's command to completion in the modelled file system."""
        root = {
            k.lstrip("/"): v for k, v in self.images.get(image_repo(container.get("image", "")), {}).items()
        }
        fs = FileSystem([Mount("/", dict(root))] + self.mounts_for(namespace, pod_spec, container))
        argv = list(container.get("command") or []) + list(container.get("args") or [])
        if len(argv) >= 3 and posixpath.basename(argv[0]) in ("sh", "bash") and argv[1] == "-c":
            return Shell(fs).run_script(argv[2])
        if not argv:
            return ShellResult(0, "")
        return Shell(fs).run_argv(argv)


class FileSystem:
    """Absolute paths resolved through the longest matching mount."""

    def __init__(self, mounts: list[Mount]):
        self.mounts = sorted(mounts, key=lambda m: len(m.path), reverse=True)

    def locate(self, path: str) -> tuple[Mount, str]:
        path = posixpath.normpath("/" + path.lstrip("/"))
        for mount in self.mounts:
            if mount.path == "/" or path == mount.path or path.startswith(mount.path + "/"):
                rel = path[len(mount.path) :].lstrip("/") if mount.path != "/" else path.lstrip("/")
                return mount, rel
        raise AssertionError("the root mount always matches")

    def files_under(self, path: str) -> dict[str, int]:
        """Files below a directory, relative to it; mounts below it are included."""
        path = posixpath.normpath(path)
        found: dict[str, int] = {}
        for mount in self.mounts:
            for rel, size in mount.tree.items():
                absolute = posixpath.join(mount.path, rel)
                if self.locate(absolute)[0] is not mount:
                    continue  # shadowed by a deeper mount
                if path == "/" or absolute.startswith(path + "/"):
                    found[absolute[len(path.rstrip("/")) + 1 :]] = size
        return found

    def is_dir(self, path: str) -> bool:
        path = posixpath.normpath(path)
        return any(m.path == path for m in self.mounts) or bool(self.files_under(path))

    def du_bytes(self, path: str) -> int:
        """`du -sb`: file bytes plus DIR_BYTES for the directory and every subdirectory."""
        files = self.files_under(path)
        dirs = {posixpath.dirname(rel) for rel in files} | {""}
        for d in list(dirs):
            while d:
                d = posixpath.dirname(d)
                dirs.add(d)
        return sum(files.values()) + DIR_BYTES * len(dirs)

    def write(self, path: str, size: int) -> None:
        mount, rel = self.locate(path)
        if mount.read_only:
            raise PermissionError(f"cannot create regular file '{path}': Read-only file system")
        mount.tree[rel] = size


class Shell:
    """Just enough POSIX sh for migration jobs: `&&`, `;`, `set -e`, and a handful of utilities."""

    def __init__(self, fs: FileSystem):
        self.fs = fs
        self.out: list[str] = []

    def run_script(self, script: str) -> ShellResult:
        status = 0
        for line in script.replace(";", "\n").splitlines():
            for part in line.split("&&"):
                argv = shlex.split(part)
                if not argv:
                    continue
                status = self.run_argv(argv, collect=False).exit_code
                if status != 0:
                    break
            if status != 0:
                break
        return ShellResult(status, "".join(self.out))

    def run_argv(self, argv: list[str], collect: bool = True) -> ShellResult:
        command = {
            "cp": self._cp,
            "du": self._du,
            "echo": self._echo,
            "mkdir": _ok,
            "true": _ok,
            "set": _ok,
            "sleep": _ok,
            "sync": _ok,
            "exit": _exit,
            "false": lambda a: 1,
            "ls": self._ls,
        }.get(posixpath.basename(argv[0]))
        if command is None:
            self.out.append(f"sh: {argv[0]}: not found\n")
            code = 127
        else:
            code = command(argv[1:])
        return ShellResult(code, "".join(self.out) if collect else "")

    def _echo(self, args: list[str]) -> int:
        self.out.append(" ".join(args) + "\n")
        return 0

    def _ls(self, args: list[str]) -> int:
        for path in [a for a in args if not a.startswith("-")]:
            self.out.extend(
                f"{name}\n" for name in sorted({r.split("/")[0] for r in self.fs.files_under(path)})
            )
        return 0

    def _cp(self, args: list[str]) -> int:
        paths = [a for a in args if not a.startswith("-")]
        if len(paths) != 2 or not any(a.startswith("-") and ("a" in a or "r" in a or "R" in a) for a in args):
            self.out.append("cp: this fake copies directories only: cp -a SRC DST\n")
            return 1
        src, dst = paths
        contents_only = src.rstrip("/").endswith("/.")
        src = posixpath.normpath(src.rstrip("/").removesuffix("/."))
        if not self.fs.is_dir(src):
            self.out.append(f"cp: cannot stat '{src}': No such file or directory\n")
            return 1
        target = (
            posixpath.normpath(dst)
            if contents_only or not self.fs.is_dir(dst)
            else posixpath.join(posixpath.normpath(dst), posixpath.basename(src))
        )
        try:
            for rel, size in self.fs.files_under(src).items():
                self.fs.write(posixpath.join(target, rel), size)
        except PermissionError as err:
            self.out.append(f"cp: {err}\n")
            return 1
        return 0

    def _du(self, args: list[str]) -> int:
        flags = "".join(a[1:] for a in args if a.startswith("-"))
        if "s" not in flags or "b" not in flags:
            self.out.append("du: this fake answers only du -sb\n")
            return 1
        code = 0
        for path in [a for a in args if not a.startswith("-")]:
            if not self.fs.is_dir(path):
                self.out.append(f"du: cannot access '{path}': No such file or directory\n")
                code = 1
                continue
            self.out.append(f"{self.fs.du_bytes(path)}\t{path}\n")
        return code


def _ok(args: list[str]) -> int:
    return 0


def _exit(args: list[str]) -> int:
    return int(args[0]) if args else 0

"""Run the trimmed app as its dedicated UID, the way the container will, when this host allows it.

Switching to the UID needs root, and the UID must be able to reach the interpreter and the trimmed
tree. Both are hard-linked (same bytes, same inodes) into a world-traversable folder under the system
temp dir, with private HOME, TMPDIR and bytecode-cache folders owned by the UID, like the pod's emptyDirs.
When any of that is impossible the runs use the invoking user and the report says why.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class TrimmedRuntime:
    """Where and as whom the trimmed tree runs."""

    python: str
    image: Path
    env: dict[str, str] = field(default_factory=dict)
    uid: int | None = None
    note: str = ""
    root: Path | None = None

    def close(self) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


def traversable(path: Path) -> bool:
    """True when every folder from / down to path lets any user through (o+x)."""
    for folder in [path, *path.parents]:
        try:
            if not folder.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def _link_tree(src: Path, dst: Path, skip: tuple[str, ...] = ()) -> None:
    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)  # another filesystem: copy instead

    shutil.copytree(src, dst, symlinks=True, copy_function=link, ignore=shutil.ignore_patterns(*skip))
    for folder in [dst, *[p for p in dst.rglob("*") if p.is_dir() and not p.is_symlink()]]:
        folder.chmod(folder.stat().st_mode | 0o755)


def _private(folder: Path, uid: int) -> str:
    folder.mkdir()
    os.chown(folder, uid, uid)
    folder.chmod(0o700)
    return str(folder)


def _interpreter(root: Path) -> tuple[str, dict[str, str]]:
    """A hard-linked copy of the base interpreter (without its site-packages) the UID can execute."""
    prefix = Path(sys.base_prefix)
    _link_tree(prefix, root / "python", skip=("site-packages", "test", "include", "share"))
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    python = root / "python" / "bin" / version
    # The interpreter may find libpython through an absolute RUNPATH the UID cannot reach.
    return str(python), {"LD_LIBRARY_PATH": str(root / "python" / "lib")}


def dedicated_runtime(image: Path, uid: int, fallback: TrimmedRuntime) -> TrimmedRuntime:
    """A runtime that runs as uid, or `fallback` with a note saying why that was not possible."""
    if os.geteuid() != 0:
        why = "not running as root, so the runs could not switch to the dedicated UID"
        return replace(fallback, note=why)
    root = Path(tempfile.mkdtemp(prefix="k8orize-uid-"))
    try:
        root.chmod(0o755)
        if not traversable(root):
            raise OSError(f"{root} is not reachable by other users")
        python, env = _interpreter(root)
        _link_tree(image, root / "image")
        env |= {
            "PYTHONPATH": str(root / "image" / "site-packages"),
            "HOME": _private(root / "home", uid),
            "TMPDIR": _private(root / "tmp", uid),
            "PYTHONPYCACHEPREFIX": _private(root / "pycache", uid),
        }
        check = subprocess.run(
            [python, "-c", "import encodings, os; print(os.getuid())"],
            env=env,
            user=uid,
            group=uid,
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if check.stdout.strip() != str(uid):
            raise OSError(f"the interpreter does not start as UID {uid}: {check.stderr.strip()[-200:]}")
    except (OSError, subprocess.SubprocessError, shutil.Error) as exc:
        shutil.rmtree(root, ignore_errors=True)
        return replace(fallback, note=f"could not prepare a run as the dedicated UID ({exc})")
    note = (
        f"ran as UID/GID {uid}:{uid} with no supplementary groups, private HOME/TMPDIR, from a hard-linked "
        "copy of the trimmed tree and of the host interpreter (LD_LIBRARY_PATH points at its libpython)"
    )
    return TrimmedRuntime(python, root / "image", env, uid, note, root)

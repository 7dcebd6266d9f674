"""The one door through which the engine reads an app: nothing outside the app folder gets in.

Every read, listing and copy of the app's own files goes through `AppFiles`. A path is served only
when it resolves, links and all, to a regular file inside the app folder: a link that leaves the
folder (to the vault key, a mounted Secret, `/etc`), a device, a fifo or a socket is refused and
noted as an unreadable file, which the report lists per file. Reads open the resolved file with
O_NOFOLLOW and check what was actually opened (fstat, and on Linux /proc/self/fd), so swapping a
component for a link between the check and the open does not help. Copies into OUT create their
target with O_EXCL|O_NOFOLLOW, so they never write through a link either.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import messages

#: Files the analysis parses (requirements, pyproject, Python sources) are read up to this size.
MAX_PARSED_BYTES = 10 * 1024 * 1024
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class AppFileRefused(Exception):
    """One file of the app could not be served; `reason` says why, in words for the report."""

    def __init__(self, rel: str, reason: str) -> None:
        super().__init__(f"{rel}: {reason}")
        self.rel, self.reason = rel, reason


@dataclass(frozen=True)
class AppFile:
    """A regular file of the app: its path relative to the app folder and its size."""

    rel: str
    size: int


def inside(path: Path, root: Path) -> bool:
    """True when `path`, every link resolved, lies within `root` (itself already resolved)."""
    try:
        return Path(os.path.realpath(path, strict=True)).is_relative_to(root)
    except (OSError, ValueError):
        return False


class AppFiles:
    """A read-only view of one app folder that never serves anything from outside it."""

    def __init__(self, root: Path, max_parsed: int = MAX_PARSED_BYTES) -> None:
        self.root = Path(os.path.realpath(root))
        self.max_parsed = max_parsed
        #: rel path → why it was not read; filled by every refused read, listing and parse.
        self.unreadable: dict[str, str] = {}

    def note(self, rel: str, reason: str) -> None:
        """Record one unreadable file for the report (the first reason wins)."""
        self.unreadable.setdefault(rel, reason)

    # -- single files ----------------------------------------------------------------------------
    def is_file(self, rel: str) -> bool:
        """True when rel is a regular file inside the app; a refused link is noted, not followed."""
        try:
            os.close(self._open(rel)[0])
        except AppFileRefused as refused:
            if refused.reason != messages.APP_FILE_MISSING:
                self.note(rel, refused.reason)
            return False
        return True

    def read_bytes(self, rel: str, limit: int | None = None) -> bytes:
        """rel's content; AppFileRefused (also noted) when it is refused or larger than `limit`."""
        limit = self.max_parsed if limit is None else limit
        try:
            fd, info = self._open(rel)
            with os.fdopen(fd, "rb") as handle:
                if info.st_size > limit:
                    raise AppFileRefused(rel, messages.APP_FILE_TOO_LARGE.format(mb=limit // 2**20))
                return handle.read(limit + 1)[:limit]
        except AppFileRefused as refused:
            self.note(rel, refused.reason)
            raise

    def read_text(self, rel: str) -> str | None:
        """rel as UTF-8 text, or None (noted) when it is refused, too large or not UTF-8."""
        try:
            return self.read_bytes(rel).decode("utf-8")
        except AppFileRefused:
            return None
        except UnicodeDecodeError:
            self.note(rel, messages.APP_FILE_NOT_TEXT)
            return None

    def copy(self, rel: str, dest: Path) -> None:
        """Copy rel's bytes (never a link) to dest, which must not exist yet."""
        fd, info = self._open(rel)
        with os.fdopen(fd, "rb") as src:
            dest.parent.mkdir(parents=True, exist_ok=True)
            out = os.open(dest, _CREATE_FLAGS, stat.S_IMODE(info.st_mode) & 0o755 | 0o600)
            with os.fdopen(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
                os.utime(dst.fileno(), ns=(info.st_atime_ns, info.st_mtime_ns))

    def _open(self, rel: str) -> tuple[int, os.stat_result]:
        """An fd on the regular file rel resolves to inside the app, with its stat."""
        real = self._resolve(rel)
        try:
            fd = os.open(real, _OPEN_FLAGS)
        except OSError as exc:
            raise AppFileRefused(rel, messages.APP_FILE_UNREADABLE.format(why=exc.strerror)) from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not self._opened_inside(fd):
            os.close(fd)
            raise AppFileRefused(rel, messages.APP_FILE_NOT_REGULAR)
        return fd, info

    def _resolve(self, rel: str) -> Path:
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
            raise AppFileRefused(rel, messages.APP_FILE_LEAVES)
        try:
            real = Path(os.path.realpath(self.root.joinpath(*parts), strict=True))
        except FileNotFoundError:
            raise AppFileRefused(rel, messages.APP_FILE_MISSING) from None
        except OSError:  # a link loop, a component that is not a folder, no permission
            raise AppFileRefused(rel, messages.APP_FILE_LEAVES) from None
        if not real.is_relative_to(self.root):
            raise AppFileRefused(rel, messages.APP_FILE_LEAVES)
        return real

    def _opened_inside(self, fd: int) -> bool:
        """What the kernel actually opened lies inside the app (Linux; elsewhere the resolve check)."""
        try:
            return Path(os.readlink(f"/proc/self/fd/{fd}")).is_relative_to(self.root)
        except OSError:
            return True

    # -- listings --------------------------------------------------------------------------------
    def walk(self) -> list[AppFile]:
        """Every regular file of the app, sorted; links that stay inside are served as their target.

        Links to folders are not descended (their files are listed where they really are); links
        that leave the app and special files are noted as unreadable and left out.
        """
        return sorted(self._walk(self.root, PurePosixPath()), key=lambda f: f.rel)

    def _walk(self, folder: Path, rel: PurePosixPath) -> Iterator[AppFile]:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            self.note(str(rel) or ".", messages.APP_FILE_UNREADABLE.format(why=exc.strerror))
            return
        for entry in entries:
            path = rel / entry.name
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(Path(entry.path), path)
            elif entry.is_file(follow_symlinks=False):
                yield AppFile(str(path), entry.stat(follow_symlinks=False).st_size)
            elif entry.is_symlink():
                yield from self._linked(Path(entry.path), str(path))
            else:
                self.note(str(path), messages.APP_FILE_NOT_REGULAR)

    def _linked(self, link: Path, rel: str) -> Iterator[AppFile]:
        if not inside(link, self.root):
            self.note(rel, messages.APP_FILE_LEAVES)
        elif link.is_file():
            yield AppFile(rel, link.stat().st_size)
        elif not link.is_dir():
            self.note(rel, messages.APP_FILE_NOT_REGULAR)

    def top_level(self, suffix: str) -> list[str]:
        """Regular files directly in the app folder whose names end with suffix, sorted."""
        return [f.rel for f in self.walk_top() if f.rel.endswith(suffix)]

    def walk_top(self) -> list[AppFile]:
        """The regular files directly in the app folder (links that stay inside included)."""
        found = []
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
            if entry.is_file(follow_symlinks=False):
                found.append(AppFile(entry.name, entry.stat(follow_symlinks=False).st_size))
            elif entry.is_symlink():
                found.extend(self._linked(Path(entry.path), entry.name))
        return found

    def packages(self) -> list[str]:
        """Folders directly in the app (not links) that hold an `__init__.py`: the app's own packages."""
        return sorted(
            entry.name
            for entry in os.scandir(self.root)
            if entry.is_dir(follow_symlinks=False) and self.is_file(f"{entry.name}/__init__.py")
        )

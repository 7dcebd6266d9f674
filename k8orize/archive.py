"""Unpack a tar.gz one member at a time, refusing anything that could reach outside its folder.

The archive is read as a stream (`r|gz`): each header is checked when it is read, so the member
count, the total size and each file's size stop the unpacking as soon as they are passed, before
the rest is decompressed. Members are written only below a fresh folder, through real folders
(never through a link), with O_EXCL|O_NOFOLLOW. A symlink is resolved against what is already on
disk when it arrives, and every link again once the tree is complete, so chains such as
`a -> ..`, `b -> a/..` are caught whatever their order. Hard links, devices, fifos and sparse files
are refused. On any refusal the folder is removed whole: nothing half-unpacked is left.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from . import messages
from .errors import K8orizeError

_HEADER_TYPES = frozenset(
    {
        tarfile.GNUTYPE_LONGNAME,
        tarfile.GNUTYPE_LONGLINK,
        tarfile.XHDTYPE,
        tarfile.XGLTYPE,
        tarfile.SOLARIS_XHDTYPE,
    }
)
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class ArchiveRefused(K8orizeError):
    """The archive holds something unsafe or too large; `what` names it for the user."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass(frozen=True)
class ArchiveLimits:
    """How much one archive may unpack to, checked while it is read."""

    members: int = 20_000
    total_bytes: int = 500 * 2**20
    file_bytes: int = 100 * 2**20
    header_bytes: int = 2**20  # one pax or GNU long-name header
    header_chain: int = 16  # header records in front of one member


class _BoundedTarInfo(tarfile.TarInfo):
    """Refuses oversized, endless or sparse headers before tarfile reads them into memory."""

    def _proc_member(self, tar: _BoundedTarFile) -> tarfile.TarInfo:
        limits = tar.k8or_limits
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise ArchiveRefused(messages.ARCHIVE_SPECIAL.format(name=_shown(self.name)))
        if self.type in _HEADER_TYPES:
            tar.k8or_chain += 1
            if self.size > limits.header_bytes or tar.k8or_chain > limits.header_chain:
                raise ArchiveRefused(messages.ARCHIVE_HEADER)
        member: tarfile.TarInfo = super()._proc_member(tar)  # type: ignore[misc]  # private in typeshed
        return member


class _BoundedTarFile(tarfile.TarFile):
    """A TarFile whose limits hold from the first header it reads (in stream mode, at open)."""

    tarinfo = _BoundedTarInfo
    k8or_limits = ArchiveLimits()
    k8or_chain = 0  # headers read for the current member


def _bounded_tarfile(limits: ArchiveLimits) -> type[_BoundedTarFile]:
    """A TarFile class carrying `limits`: they must be in place before `open` reads the first header."""

    class Bounded(_BoundedTarFile):
        k8or_limits = limits

    return Bounded


def _shown(name: str) -> str:
    return name[:80].replace("`", "'")


def unpack_tar_gz(stream: BinaryIO, into: Path, limits: ArchiveLimits | None = None) -> Path:
    """Unpack the tar.gz read from `stream` into the fresh folder `into`; return its single top folder.

    Raises ArchiveRefused (and leaves no `into`) when a member is unsafe, a limit is passed or the
    stream is not a tar.gz. `into` must not exist: it is created here, private to this user.
    """
    into.mkdir(mode=0o700)
    try:
        _Unpacker(into, limits or ArchiveLimits()).run(stream)
        return _single_top(into)
    except BaseException:
        shutil.rmtree(into, ignore_errors=True)
        raise


def _single_top(into: Path) -> Path:
    tops = list(into.iterdir())
    if len(tops) != 1 or not tops[0].is_dir() or tops[0].is_symlink():
        raise ArchiveRefused(messages.ARCHIVE_NO_TOP)
    return tops[0]


class _Unpacker:
    """One pass over the stream, writing each member as it comes."""

    def __init__(self, into: Path, limits: ArchiveLimits) -> None:
        self.into, self.limits = into, limits
        self.root = Path(os.path.realpath(into))
        self.count, self.total = 0, 0
        self.links: list[Path] = []

    def run(self, stream: BinaryIO) -> None:
        try:
            with _bounded_tarfile(self.limits).open(fileobj=stream, mode="r|gz") as tar:
                while (member := tar.next()) is not None:
                    tar.k8or_chain = 0
                    self._member(tar, member)
        except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError) as exc:
            raise ArchiveRefused(messages.ARCHIVE_UNREADABLE) from exc
        except RecursionError as exc:
            raise ArchiveRefused(messages.ARCHIVE_HEADER) from exc
        self._recheck_links()

    def _member(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        self.count += 1
        if self.count > self.limits.members:
            raise ArchiveRefused(messages.ARCHIVE_TOO_MANY.format(limit=self.limits.members))
        parts = self._parts(member)
        if not parts:
            return  # the archive's own root (`./`)
        if member.isdir():
            self._folder(parts, member.name)
        elif member.issym():
            self._symlink(parts, member)
        elif member.isreg() and member.sparse is None:
            self._file(tar, parts, member)
        elif member.islnk():
            raise ArchiveRefused(messages.ARCHIVE_HARD_LINK.format(name=_shown(member.name)))
        else:
            raise ArchiveRefused(messages.ARCHIVE_SPECIAL.format(name=_shown(member.name)))

    def _parts(self, member: tarfile.TarInfo) -> tuple[str, ...]:
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts or "\0" in member.name:
            raise ArchiveRefused(messages.ARCHIVE_PATH_OUTSIDE.format(name=_shown(member.name)))
        return path.parts

    def _parent(self, parts: tuple[str, ...], name: str) -> Path:
        """The member's folder, created through real folders only (never through a link)."""
        folder = self.into
        for part in parts[:-1]:
            folder = folder / part
            self._real_folder(folder, name)
        return folder

    def _real_folder(self, folder: Path, name: str) -> None:
        try:
            mode = os.lstat(folder).st_mode
        except FileNotFoundError:
            folder.mkdir(mode=0o755)
            return
        if stat.S_ISLNK(mode):
            raise ArchiveRefused(messages.ARCHIVE_THROUGH_LINK.format(name=_shown(name)))
        if not stat.S_ISDIR(mode):
            raise ArchiveRefused(messages.ARCHIVE_TWICE.format(name=_shown(name)))

    def _folder(self, parts: tuple[str, ...], name: str) -> None:
        self._real_folder(self._parent(parts, name) / parts[-1], name)

    def _symlink(self, parts: tuple[str, ...], member: tarfile.TarInfo) -> None:
        path = self._parent(parts, member.name) / parts[-1]
        target = member.linkname
        outside = messages.ARCHIVE_LINK_OUTSIDE.format(name=_shown(member.name))
        if not target or target.startswith("/") or "\0" in target:
            raise ArchiveRefused(outside)
        # Resolved against the links already on disk: `b -> a/..` sees what `a` really is.
        if not Path(os.path.realpath(path.parent / target)).is_relative_to(self.root):
            raise ArchiveRefused(outside)
        try:
            os.symlink(target, path)
        except FileExistsError:
            raise ArchiveRefused(messages.ARCHIVE_TWICE.format(name=_shown(member.name))) from None
        self.links.append(path)

    def _file(self, tar: tarfile.TarFile, parts: tuple[str, ...], member: tarfile.TarInfo) -> None:
        name = _shown(member.name)
        if member.size > self.limits.file_bytes:
            raise ArchiveRefused(
                messages.ARCHIVE_FILE_TOO_BIG.format(mb=self.limits.file_bytes // 2**20, name=name)
            )
        self.total += member.size
        if self.total > self.limits.total_bytes:
            raise ArchiveRefused(messages.ARCHIVE_TOO_BIG.format(mb=self.limits.total_bytes // 2**20))
        path = self._parent(parts, member.name) / parts[-1]
        try:
            fd = os.open(path, _FILE_FLAGS, (member.mode & 0o755) | 0o600)
        except FileExistsError:
            raise ArchiveRefused(messages.ARCHIVE_TWICE.format(name=name)) from None
        source = tar.extractfile(member)
        with os.fdopen(fd, "wb") as out:
            if source is not None:
                shutil.copyfileobj(source, out)

    def _recheck_links(self) -> None:
        """Every link, resolved in the finished tree, still lands inside it: a later member can change
        what an earlier link's path resolves to."""
        for link in self.links:
            if not Path(os.path.realpath(link)).is_relative_to(self.root):
                name = _shown(link.relative_to(self.into).as_posix())
                raise ArchiveRefused(messages.ARCHIVE_LINK_OUTSIDE.format(name=name))

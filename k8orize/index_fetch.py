"""A dependency's sdist, fetched from the package index as data and checked against the index's sha256.

Used only for a requirement that has no wheel for this platform: the newest `.tar.gz` sdist the
requirement, this Python and the index's yanks allow is streamed to a file, hashed on the way and
capped in size. It is never unpacked by a build tool or run on the host: k8orize/source_build.py
unpacks it safely and builds it inside the sandbox.
"""

from __future__ import annotations

import hashlib
import os
import platform
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidSdistFilename, canonicalize_name, parse_sdist_filename
from packaging.version import Version

from . import isolation_messages
from .errors import InstallFailed
from .package_index import IndexConfig, IndexFile, IndexUnreachable, open_url, project_files, shown

SDIST_BYTES = 256 * 2**20
_CHUNK = 2**20


class SdistRefused(InstallFailed):
    """No sdist fits, the index cannot be asked, or the file is not what the index says it is."""


@dataclass(frozen=True)
class Sdist:
    """One sdist on disk, as the index listed it (its hash checked)."""

    path: Path
    name: str  # canonical
    version: Version
    sha256: str
    index: str  # shown: without credentials


@dataclass(frozen=True)
class _Candidate:
    file: IndexFile
    name: str
    version: Version


def _candidates(files: list[IndexFile], project: str) -> list[_Candidate]:
    found = []
    for file in files:
        if not file.filename.endswith(".tar.gz"):
            continue
        try:
            name, version = parse_sdist_filename(file.filename)
        except InvalidSdistFilename:
            continue
        if name == canonicalize_name(project):
            found.append(_Candidate(file, name, version))
    return found


def _fits_python(file: IndexFile) -> bool:
    if not file.requires_python:
        return True
    try:
        return SpecifierSet(file.requires_python).contains(platform.python_version(), prereleases=True)
    except InvalidSpecifier:
        return False


def _pinned(requirement: Requirement) -> bool:
    """An exact pin may select a yanked file (PEP 592)."""
    return any(spec.operator in ("==", "===") and "*" not in spec.version for spec in requirement.specifier)


def choose_sdist(requirement: Requirement, files: list[IndexFile]) -> IndexFile | None:
    """The newest sdist of files that requirement, this Python and the index's yanks allow."""
    fitting = [c for c in _candidates(files, requirement.name) if _fits_python(c.file)]
    fitting = [c for c in fitting if not c.file.yanked or _pinned(requirement)]
    allowed = set(requirement.specifier.filter([c.version for c in fitting]))
    best = [c for c in fitting if c.version in allowed]
    return max(best, key=lambda c: c.version).file if best else None


def _listed(requirement: Requirement, config: IndexConfig) -> list[IndexFile]:
    """Every file of the project on every configured index; an index that does not answer stops it."""
    files: list[IndexFile] = []
    for index in config.urls:
        try:
            files += project_files(index, requirement.name, config)
        except IndexUnreachable as exc:
            said = isolation_messages.INDEX_UNREACHABLE
            raise SdistRefused(said.format(index=shown(index), project=requirement.name, why=exc)) from None
    return files


def fetch_sdist(requirement: Requirement, config: IndexConfig, into: Path) -> Sdist:
    """Fetch the sdist that fits requirement into the folder into, hash-checked (SdistRefused if not)."""
    if not config.urls:
        raise SdistRefused(isolation_messages.NO_INDEX.format(requirement=requirement))
    file = choose_sdist(requirement, _listed(requirement, config))
    if file is None:
        indexes = ", ".join(shown(u) for u in config.urls)
        raise SdistRefused(
            isolation_messages.NO_SDIST.format(
                requirement=requirement, python=platform.python_version(), indexes=indexes
            )
        )
    if file.sha256 is None:
        raise SdistRefused(isolation_messages.NO_INDEX_HASH.format(file=file.filename))
    name, version = parse_sdist_filename(file.filename)
    path = into / f"{name.replace('-', '_')}-{version}.tar.gz"  # PEP 625's name, never the index's
    _download(file, config, path)
    return Sdist(path, name, version, file.sha256, shown(file.index))


def _same_kind(file: IndexFile) -> bool:
    """A file:// link only from a file:// index: an index on the network never reads the host's files."""
    scheme = file.url.partition(":")[0].lower()
    return scheme in ("http", "https") or scheme == "file" == file.index.partition(":")[0].lower()


def _download(file: IndexFile, config: IndexConfig, path: Path) -> None:
    """Stream file to path, hashing it; a wrong hash or too many bytes removes it and refuses."""
    index = shown(file.index)
    if not _same_kind(file):
        why = f"it links {file.filename} outside http(s)"
        raise SdistRefused(
            isolation_messages.INDEX_UNREACHABLE.format(index=index, project=file.filename, why=why)
        ) from None
    digest = hashlib.sha256()
    size = 0
    try:
        _, stream = open_url(file.url, config)
        with stream, path.open("xb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > SDIST_BYTES:
                    raise SdistRefused(
                        isolation_messages.SDIST_TOO_BIG.format(
                            file=file.filename, index=index, mb=SDIST_BYTES >> 20
                        )
                    )
                digest.update(chunk)
                out.write(chunk)
    except IndexUnreachable as exc:
        path.unlink(missing_ok=True)
        why = f"{file.filename}: {exc}"
        raise SdistRefused(
            isolation_messages.INDEX_UNREACHABLE.format(index=index, project=file.filename, why=why)
        ) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if digest.hexdigest() != file.sha256:
        os.unlink(path)
        raise SdistRefused(
            isolation_messages.HASH_MISMATCH.format(
                file=file.filename, index=index, expected=file.sha256, actual=digest.hexdigest()
            )
        )

"""A dependency built from its sdist inside the sandbox, and what the host reads of the result as data.

On the host: the sdist (fetched by index_fetch, hash-checked) is unpacked by archive.unpack_tar_gz (no
path or link out of its folder, size limits), its pyproject.toml is read as TOML for its
`[build-system] requires` (setuptools for a project without one), and those are downloaded as wheels.
In the sandbox, with no network: `pip wheel --no-index --find-links BUILD_WHEELS --no-deps`, so its
build environment is made of those wheels alone and its build backend runs where it can see and reach
nothing. On the host again: the one wheel it made is taken only if it is a regular file named for the
sdist's project and version, and its METADATA is read as text. Its Requires-Dist lines pass the same
checks as the app's requirements, so pip never follows a URL or a path a build backend wrote.
"""

from __future__ import annotations

import email.parser
import os
import shutil
import stat
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from . import isolation_messages
from .archive import ArchiveRefused, unpack_tar_gz
from .errors import InstallFailed
from .index_fetch import Sdist
from .requirements import LEGACY_BUILD, CheckedRequirement, RequirementRefused, check_line
from .sandbox import SandboxHost, View

WHEEL_BYTES = 1 * 2**30  # the largest wheel a build may hand back
METADATA_BYTES = 4 * 2**20

#: Runs `pip download --only-binary :all:` of the lines into the folder on the host; its exit code.
FetchWheels = Callable[[list[str], Path], int]


@dataclass(frozen=True)
class SourceBuilder:
    """What a build from source needs: the sandbox, the interpreter and pip it builds with, the log."""

    host: SandboxHost
    python: Path  # the app's venv interpreter: wheels are built for it
    pip: Path  # the engine's pip folder, run from outside any venv
    log: Path
    fetch_wheels: FetchWheels
    tail: Callable[[], str]
    allow_urls: bool = False

    def build(self, sdist: Sdist, number: int) -> tuple[Path, list[CheckedRequirement]]:
        """Build sdist into a checked wheel (in a folder of its own); the wheel and its Requires-Dist."""
        tree = unpacked(sdist, self.host.folder(f"source-{number}"))
        requires = build_requirements(tree, sdist)
        wheels = self.host.folder(f"source-{number}-build-wheels")
        code = self.fetch_wheels([r.line for r in requires], wheels)
        if code != 0:
            shown = ", ".join(str(r.requirement) for r in requires)
            raise InstallFailed(
                isolation_messages.BUILD_DEPS_FAILED.format(
                    file=sdist.path.name, requires=shown, code=code, tail=self.tail()
                )
            )
        out = self.host.folder(f"source-{number}-wheel", writable=True)
        self.host.hand_over(tree)
        code = self._run(tree, wheels, out)
        if code != 0:
            raise InstallFailed(
                isolation_messages.SOURCE_BUILD_FAILED.format(
                    file=sdist.path.name, code=code, tail=self.tail()
                )
            )
        wheel = built_wheel(out, sdist, self.host.folder(f"source-{number}-checked"))
        return wheel, requires_dist(wheel, sdist, self.allow_urls)

    def _run(self, tree: Path, wheels: Path, out: Path) -> int:
        # --verbose: the build backend's own output goes into install.log too.
        flags = ["--isolated", "--no-input", "--disable-pip-version-check", "--no-cache-dir", "--verbose"]
        offline = ["--no-index", "--find-links", str(wheels), "--no-deps", "--progress-bar", "off"]
        cmd = [str(self.python), str(self.pip), "wheel", *flags, *offline, "--wheel-dir", str(out), str(tree)]
        view = View(readonly=(wheels, self.pip, self.python.parent.parent), writable=(tree, out), cwd=tree)
        with self.log.open("a", encoding="utf-8") as handle:
            handle.write(f"$ [sandbox] {' '.join(cmd)}\n")
        return self.host.run(cmd, view, self.log, self.host.limits.install_seconds)


def unpacked(sdist: Sdist, into: Path) -> Path:
    """The sdist's top folder, unpacked safely below into (InstallFailed names what was refused)."""
    try:
        with sdist.path.open("rb") as stream:
            top = unpack_tar_gz(stream, into / "tree")
    except ArchiveRefused as exc:
        refused = isolation_messages.SDIST_UNREADABLE.format(file=sdist.path.name, what=exc.what)
        raise InstallFailed(refused) from None
    top.parent.chmod(0o755)  # unpacked private; the sandbox's UID must pass through to its tree
    return top


def build_requirements(tree: Path, sdist: Sdist) -> list[CheckedRequirement]:
    """Its [build-system] requires (PEP 518), checked like the app's; setuptools without one."""
    pyproject = tree / "pyproject.toml"
    where = f"{sdist.path.name} pyproject.toml [build-system] requires"
    if pyproject.is_symlink() or not pyproject.is_file():
        return [check_line(line, where) for line in LEGACY_BUILD]
    try:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8", errors="replace"))
    except tomllib.TOMLDecodeError as exc:
        raise InstallFailed(
            isolation_messages.SDIST_PYPROJECT.format(file=sdist.path.name, why=exc)
        ) from None
    system = table.get("build-system")
    if not isinstance(system, dict):
        return [check_line(line, where) for line in LEGACY_BUILD]
    requires = system.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise RequirementRefused(f"{where} is not a list of strings.")
    return [check_line(line, where) for line in requires]


def _wrong(sdist: Sdist, why: str) -> InstallFailed:
    return InstallFailed(
        isolation_messages.BUILT_WHEEL_WRONG.format(
            file=sdist.path.name, name=sdist.name, version=sdist.version, why=why
        )
    )


def built_wheel(out: Path, sdist: Sdist, into: Path) -> Path:
    """The one wheel the build left in out, copied into into, if it is the sdist's project and version
    and a regular file (a link the sandbox made is never followed)."""
    entries = os.listdir(out)
    wheels = [e for e in entries if e.endswith(".whl")]
    if len(wheels) != 1:
        raise _wrong(sdist, f"it left {len(wheels)} wheels")
    try:
        name, version, _, _ = parse_wheel_filename(wheels[0])
    except (InvalidWheelFilename, InvalidVersion):
        raise _wrong(sdist, f"{wheels[0][:100]!r} is not a wheel's name") from None
    if name != sdist.name or version != sdist.version:
        raise _wrong(sdist, f"it made {name} {version}")
    target = into / wheels[0]
    _copy_regular(out / wheels[0], target, sdist)
    return target


def _copy_regular(source: Path, target: Path, sdist: Sdist) -> None:
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        raise _wrong(sdist, "the wheel is not a regular file") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _wrong(sdist, "the wheel is not a regular file")
        if info.st_size > WHEEL_BYTES:
            raise _wrong(sdist, f"the wheel is larger than {WHEEL_BYTES >> 20} MB")
        with target.open("xb") as copy:
            shutil.copyfileobj(handle, copy)


def _metadata(wheel: Path, sdist: Sdist) -> email.message.Message:
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            if len(names) != 1:
                raise _wrong(sdist, f"it holds {len(names)} METADATA files")
            with archive.open(names[0]) as handle:
                text = handle.read(METADATA_BYTES + 1)
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        raise _wrong(sdist, "the wheel is not a readable zip") from None
    if len(text) > METADATA_BYTES:
        raise _wrong(sdist, f"its METADATA is larger than {METADATA_BYTES >> 20} MB")
    return email.parser.BytesParser().parsebytes(text, headersonly=True)


def requires_dist(wheel: Path, sdist: Sdist, allow_urls: bool = False) -> list[CheckedRequirement]:
    """The wheel's Requires-Dist, read as data and checked like the app's own requirement lines."""
    metadata = _metadata(wheel, sdist)
    try:
        version = Version(str(metadata.get("Version", "")))
    except InvalidVersion:
        version = None
    if canonicalize_name(str(metadata.get("Name", ""))) != sdist.name or version != sdist.version:
        raise _wrong(sdist, "its METADATA names another project or version")
    where = f"{wheel.name} (built from {sdist.path.name}) Requires-Dist"
    return [check_line(str(line), where, allow_urls) for line in metadata.get_all("Requires-Dist") or []]

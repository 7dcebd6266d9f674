"""The app's requirements, parsed and checked before anything is downloaded or installed.

A requirements file is code for pip: an option line (`--index-url`, `-e .`, `-r other.txt`,
`--extra-index-url`, `-f DIR`, `--trusted-host`) or a direct URL would point the installer at a place
of the app's choosing, or run a build backend on the k8or host. Only named requirements pass (with
their version specifiers, extras, markers and `--hash` pins); direct `name @ https://...whl` URLs pass
only when the caller allows them, and never a local path or an sdist URL.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement

from . import messages
from .appfiles import AppFiles
from .errors import BadRequest

REQUIREMENTS_TXT = "requirements.txt"
PYPROJECT = "pyproject.toml"
#: What a project without [build-system] is built with (PEP 517's fallback to setuptools).
LEGACY_BUILD = ("setuptools>=40.8.0",)

_HASH = re.compile(r"\s+--hash[=\s]\s*(sha256|sha384|sha512):([0-9a-fA-F]+)")
_COMMENT = re.compile(r"(^|\s)#.*$")
_OPTION_AFTER = re.compile(r"\s-{1,2}[A-Za-z]")
_LOCATION = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|\.{1,2}(?:/|$)|/|~)")  # a URL or a path, not a name


class RequirementRefused(BadRequest):
    """A requirement line the engine will not hand to an installer."""


@dataclass(frozen=True)
class CheckedRequirement:
    """One requirement that passed the checks, with the hashes it was pinned to (if any)."""

    requirement: Requirement
    hashes: tuple[str, ...] = ()

    @property
    def line(self) -> str:
        """The requirement as a requirements-file line an installer reads (hashes included)."""
        return " ".join([str(self.requirement), *(f"--hash={h}" for h in self.hashes)])


@dataclass(frozen=True)
class AppRequirements:
    """What the install step fetches: the app's requirements and, for a project, its build system."""

    requirements: tuple[CheckedRequirement, ...]
    build: tuple[CheckedRequirement, ...] = ()

    @property
    def lines(self) -> list[str]:
        return [r.line for r in self.requirements]

    @property
    def downloads(self) -> list[str]:
        """Every line to fetch as wheels before the sandboxed install."""
        return self.lines + [r.line for r in self.build]


def check_line(text: str, where: str, allow_urls: bool = False) -> CheckedRequirement:
    """Parse one requirement; RequirementRefused names where it came from and what to do."""
    line = text.strip()
    hashes = tuple(f"{algo}:{digest.lower()}" for algo, digest in _HASH.findall(line))
    bare = _HASH.sub("", line).strip()
    if bare.startswith("-") or _OPTION_AFTER.search(bare):
        raise RequirementRefused(messages.REQUIREMENT_OPTION.format(where=where, line=line))
    if _LOCATION.match(bare):
        raise RequirementRefused(messages.REQUIREMENT_URL.format(where=where, line=line))
    try:
        requirement = Requirement(bare)
    except InvalidRequirement as exc:
        why = str(exc).splitlines()[0]
        raise RequirementRefused(
            messages.REQUIREMENT_INVALID.format(where=where, line=line, why=why)
        ) from None
    if requirement.url is not None and not (allow_urls and _wheel_url(requirement.url)):
        raise RequirementRefused(messages.REQUIREMENT_URL.format(where=where, line=line))
    return CheckedRequirement(requirement, hashes)


def _wheel_url(url: str) -> bool:
    """Only a wheel over https is data: an sdist's metadata comes from running its build backend."""
    return url.startswith("https://") and url.split("#", 1)[0].split("?", 1)[0].endswith(".whl")


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each logical line of a requirements file: comments removed,
    backslash continuations joined, blank lines skipped."""
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = _COMMENT.sub("", raw).rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined, pending = (pending + line).strip(), ""
        if joined:
            lines.append((start, joined))
    if pending.strip():
        lines.append((start, pending.strip()))
    return lines


def requirements_file(text: str, allow_urls: bool = False) -> list[CheckedRequirement]:
    """Every line of a requirements.txt, checked."""
    return [
        check_line(line, f"{REQUIREMENTS_TXT} line {number}", allow_urls)
        for number, line in logical_lines(text)
    ]


def _pyproject(app: AppFiles) -> dict[str, object]:
    text = app.read_text(PYPROJECT) if app.is_file(PYPROJECT) else None
    if text is None:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RequirementRefused(messages.PYPROJECT_UNREADABLE.format(why=exc)) from None


def _string_list(table: object, key: str, where: str) -> list[str]:
    value = table.get(key, []) if isinstance(table, dict) else []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RequirementRefused(messages.PYPROJECT_NOT_A_LIST.format(where=where))
    return value


def app_requirements(app: AppFiles, *, install_project: bool, allow_urls: bool = False) -> AppRequirements:
    """The checked requirements of the app: requirements.txt and [project] dependencies, plus the
    [build-system] requires when the app is installed as a project (its own build runs sandboxed)."""
    checked: list[CheckedRequirement] = []
    if app.is_file(REQUIREMENTS_TXT):
        checked += requirements_file(app.read_text(REQUIREMENTS_TXT) or "", allow_urls)
    pyproject = _pyproject(app)
    where = f"{PYPROJECT} [project] dependencies"
    checked += [
        check_line(s, where, allow_urls)
        for s in _string_list(pyproject.get("project"), "dependencies", where)
    ]
    if not install_project:
        return AppRequirements(tuple(checked))
    where = f"{PYPROJECT} [build-system] requires"
    system = pyproject.get("build-system")
    build = _string_list(system, "requires", where) if isinstance(system, dict) else list(LEGACY_BUILD)
    return AppRequirements(tuple(checked), tuple(check_line(s, where, allow_urls) for s in build))

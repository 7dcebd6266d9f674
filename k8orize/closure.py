"""The requirement closure: every distribution that what the app uses needs installed.

The roots are the distributions the app imports in its own code and those whose code the trace
opened. From each root, its Requires-Dist lines are followed (markers evaluated for the image, which
runs the interpreter the app was traced with on this platform; the extras the app's requirements ask
for, and those each requirement names, included). A distribution in the closure can be reached by some
code path of the app, traced or not: `--trim safe` keeps all of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement

from .distributions import Distribution, canonical, import_index

#: The installer's own tools: never a root because site.py opened their start-up hook (.pth) files.
INSTALLER_TOOLS = frozenset({"pip", "setuptools", "wheel"})
_STARTUP_HOOKS = ("_distutils_hack/", "distutils-precedence.pth")


def target_environment() -> dict[str, str]:
    """The marker environment of the image: the same interpreter version on the same platform, since
    the image's base is python:<this version>-slim on this architecture."""
    return dict(default_environment())


@dataclass(frozen=True)
class Closure:
    """The distributions the roots need, and for each the name of the distribution that required it
    first ("" for a root)."""

    roots: frozenset[str]
    required_by: Mapping[str, str]
    #: Requirements no installed distribution satisfies: "anyio requires idna, which is not installed".
    unresolved: tuple[str, ...] = ()

    @property
    def members(self) -> frozenset[str]:
        return frozenset(self.required_by)


@dataclass
class _Walk:
    dists: Mapping[str, Distribution]
    env: dict[str, str]
    required_by: dict[str, str] = field(default_factory=dict)
    extras: dict[str, set[str]] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)


def _wanted(req: Requirement, extras: Iterable[str], env: dict[str, str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate({**env, "extra": extra}) for extra in ("", *sorted(extras)))


def requirements_of(dist: Distribution, extras: Iterable[str], env: dict[str, str]) -> list[Requirement]:
    """dist's requirements that apply on the target, with these extras of it asked for."""
    chosen = list(extras)
    found = []
    for line in dist.requires_dist:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue  # metadata that packaging cannot read: nothing to follow
        if _wanted(req, chosen, env):
            found.append(req)
    return found


def _visit(walk: _Walk, key: str, extras: set[str]) -> list[tuple[str, set[str]]]:
    """Follow key's requirements (with extras); what they name, to visit next."""
    known = walk.extras.get(key)
    if known is not None and extras <= known:
        return []  # already followed with these extras
    walk.extras[key] = (known or set()) | extras
    dist = walk.dists[key]
    todo = []
    for req in requirements_of(dist, walk.extras[key], walk.env):
        needed = canonical(req.name)
        if needed not in walk.dists:
            walk.unresolved.append(f"{dist.name} requires {req}, which is not installed")
            continue
        walk.required_by.setdefault(needed, dist.name)
        todo.append((needed, set(req.extras)))
    return todo


def requirement_closure(
    roots: Mapping[str, set[str]], dists: Mapping[str, Distribution], env: dict[str, str] | None = None
) -> Closure:
    """The closure of roots (canonical name -> extras asked for) over the installed dists."""
    walk = _Walk(dists, env or target_environment())
    for key in roots:
        walk.required_by[key] = ""
    queue = [(key, set(extras)) for key, extras in sorted(roots.items()) if key in dists]
    while queue:
        queue += _visit(walk, *queue.pop(0))
    members = {k: v for k, v in walk.required_by.items() if k in dists}
    return Closure(frozenset(k for k in roots if k in dists), members, tuple(sorted(set(walk.unresolved))))


def app_extras(specs: Iterable[str]) -> dict[str, set[str]]:
    """The extras the app's own requirement lines ask for (`uvicorn[standard]`), by canonical name."""
    found: dict[str, set[str]] = {}
    for spec in specs:
        try:
            req = Requirement(spec.split(" --hash", 1)[0].split(";", 1)[0].strip())
        except InvalidRequirement:
            continue
        if req.extras:
            found.setdefault(canonical(req.name), set()).update(req.extras)
    return found


def statically_imported(imports: Iterable[str], dists: Mapping[str, Distribution]) -> set[str]:
    """The distributions that provide the top-level names the app's code imports."""
    index = import_index(dict(dists))
    return {index[name] for name in imports if name in index}


def traced_roots(touched: Mapping[str, set[str]]) -> set[str]:
    """The distributions whose code the trace opened; an installer tool only when more than its
    start-up hook ran (site.py reads every .pth file, setuptools' imports _distutils_hack)."""
    return {
        key
        for key, files in touched.items()
        if key not in INSTALLER_TOOLS or any(not f.startswith(_STARTUP_HOOKS) for f in files)
    }

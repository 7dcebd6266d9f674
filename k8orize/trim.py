"""Build the app layer (OUT/image/) at one of two trim levels, and account for every byte of both.

- safe (the default): every distribution in the requirement closure of what the app imports or the
  trace touched stays (k8orize/closure.py), so no code path, traced or not, finds a requirement
  missing. Distributions nothing needs go; inside those that stay, what no import reads
  (k8orize/strip.py) goes and shared objects are stripped.
- traced: as safe, but closure members the trace never loaded go too; each is listed with the
  distribution that requires it, since a path the trace did not take may need it. So do the shared
  objects the dynamic loader never opened of distributions the trace loaded (pyarrow's Flight, Parquet
  and dataset libraries in an app that only serialises dataframes): native code is most of such a
  distribution's bytes, and an import that needs one fails as a dropped requirement would. A
  distribution kept only because the app's code imports it (the trace never reached it) keeps all.

The figures of both levels are counted whichever is built, so the report says what each would give.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import strip
from .analyze import FileScan
from .appfiles import AppFileRefused, AppFiles, inside
from .closure import (
    INSTALLER_TOOLS,
    Closure,
    app_extras,
    requirement_closure,
    statically_imported,
    traced_roots,
)
from .distributions import Distribution, canonical

SITE = "site-packages"
APP = "app"
SAFE, TRACED = "safe", "traced"
LEVELS = (SAFE, TRACED)
UNREQUIRED = "distributions nothing requires"
UNUSED_DECLARED = "unused declared dependencies"
INSTALLER = "installer tools (pip, setuptools, wheel)"
UNTRACED = "untraced requirements (--trim traced)"
UNUSED_APP_MODULES = "app modules nothing imports (--trim traced)"
UNTRACED_SHARED_OBJECTS = "shared objects never loaded (--trim traced)"


@dataclass(frozen=True)
class LevelFigures:
    """What one trim level gives: the layer's bytes after it, and what it removes by category."""

    bytes_after: int
    removed: dict[str, int]


@dataclass(frozen=True)
class Untraced:
    """A closure member the trace never loaded, and the distribution that requires it."""

    name: str
    required_by: str


@dataclass
class TrimTally:
    """Bytes counted while the layer is copied: before and after by category, and which distributions
    were kept or dropped. Filled by `trim_site_packages` and `trim_app`, then frozen by `result()`."""

    before: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    kept_distributions: list[str] = field(default_factory=list)
    dropped_distributions: list[str] = field(default_factory=list)
    level: str | None = None
    #: Bytes each level keeps and removes, whichever level was built (traced runs only).
    levels: dict[str, dict[str, int]] = field(default_factory=dict)
    untraced: list[Untraced] = field(default_factory=list)
    unused_app_modules: list[str] = field(default_factory=list)
    untraced_shared_objects: list[str] = field(default_factory=list)

    def count(self, level: str, category: str, size: int) -> None:
        """A category's bytes removed at `level` (`"kept"`: kept there)."""
        _add(self.levels.setdefault(level, {}), category, size)

    def result(self) -> TrimResult:
        return TrimResult(
            before=dict(self.before),
            removed=dict(sorted(self.removed.items())),
            kept=dict(sorted(self.kept.items())),
            kept_distributions=tuple(self.kept_distributions),
            dropped_distributions=tuple(self.dropped_distributions),
            level=self.level,
            levels={name: self._figures(name) for name in LEVELS if name in self.levels},
            untraced=tuple(self.untraced),
            unused_app_modules=tuple(self.unused_app_modules),
            untraced_shared_objects=tuple(self.untraced_shared_objects),
        )

    def _figures(self, level: str) -> LevelFigures:
        counted = self.levels[level]
        removed = {k: v for k, v in sorted(counted.items()) if k != "kept"}
        return LevelFigures(counted.get("kept", 0), removed)


@dataclass(frozen=True)
class TrimResult:
    """The trimmed layer's figures: bytes before and after by category, distributions kept and dropped,
    and (traced runs) the level built and what each level would give."""

    before: dict[str, int]
    removed: dict[str, int]
    kept: dict[str, int]
    kept_distributions: tuple[str, ...]
    dropped_distributions: tuple[str, ...]
    level: str | None = None
    levels: Mapping[str, LevelFigures] = field(default_factory=dict)
    untraced: tuple[Untraced, ...] = ()
    unused_app_modules: tuple[str, ...] = ()
    #: Shared objects the trace never loaded, of distributions it did load: left out at the traced
    #: level, listed at both.
    untraced_shared_objects: tuple[str, ...] = ()

    @property
    def bytes_before(self) -> int:
        return sum(self.before.values())

    @property
    def bytes_after(self) -> int:
        return sum(self.kept.values())

    @property
    def reduction(self) -> float:
        return 1 - self.bytes_after / self.bytes_before if self.bytes_before else 0.0

    def level_reduction(self, level: str) -> float:
        after = self.levels[level].bytes_after
        return 1 - after / self.bytes_before if self.bytes_before else 0.0


def _add(bucket: dict[str, int], key: str, size: int) -> None:
    bucket[key] = bucket.get(key, 0) + size


def _place(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)  # same filesystem: no copy needed, the bytes are identical
    except OSError:
        shutil.copy2(src, dst)


def _owners(dists: Mapping[str, Distribution]) -> tuple[dict[str, str], dict[str, str]]:
    by_file, by_top = {}, {}
    for key, dist in dists.items():
        by_top[dist.metadata_dir] = key
        for rel in dist.files:
            by_file[rel] = key
            by_top.setdefault(rel.split("/", 1)[0], key)
    return by_file, by_top


def _site_rel(path: str, site: Path) -> str | None:
    for prefix in (str(site) + "/", str(site.resolve()) + "/"):
        if path.startswith(prefix):
            return path[len(prefix) :]
    return None


def opened_in_site(opened: Iterable[str], site: Path) -> set[str]:
    """The files of site the trace opened, relative to it: by the name opened, with `..` folded (the
    loader opens `$ORIGIN/../pillow.libs/…` as `…/PIL/../pillow.libs/…`), and by its target when that
    name is a link."""
    found = set()
    for path in opened:
        for name in {os.path.normpath(path), os.path.realpath(path)}:
            if (rel := _site_rel(name, site)) is not None:
                found.add(rel)
    return found


def touched_distributions(in_site: Iterable[str], dists: Mapping[str, Distribution]) -> dict[str, set[str]]:
    """Distributions whose code (not just their dist-info metadata) the trace opened, with those files;
    in_site: the files of site it opened (`opened_in_site`)."""
    by_file, by_top = _owners(dists)
    touched: dict[str, set[str]] = {}
    for rel in in_site:
        top = rel.split("/", 1)[0]
        if top.endswith((".dist-info", ".egg-info")):
            continue  # metadata scans (entry points, versions) read every dist-info
        key = by_file.get(rel) or by_top.get(top)
        if key:
            touched.setdefault(key, set()).add(rel)
    return touched


def closure_roots(
    touched: Mapping[str, set[str]],
    imports: Iterable[str],
    dists: Mapping[str, Distribution],
    specs: Iterable[str],
) -> dict[str, set[str]]:
    """The closure's roots: what the app's code imports and the trace touched, each with the extras the
    app's requirement lines ask of it."""
    extras = app_extras(specs)
    keys = traced_roots(touched) | statically_imported(imports, dists)
    return {key: set(extras.get(key, ())) for key in sorted(keys)}


@dataclass(frozen=True)
class SiteFile:
    """One file of the installed site-packages: who owns it and whether an import can need it."""

    rel: str
    size: int
    owner: str | None
    removable: str | None  # the strip.py category when no import reads it, else None
    shared_object: bool
    opened: bool  # the trace opened it (a shared object: the loader loaded it)


@dataclass(frozen=True)
class SitePlan:
    """Which distributions each level keeps, and every file of site-packages classified."""

    closure: Closure
    traced_keep: frozenset[str]
    declared: frozenset[str]
    files: tuple[SiteFile, ...]
    loaded: frozenset[str] = frozenset()  # the distributions whose code the trace opened

    def keeps(self, level: str, owner: str | None) -> bool:
        if owner is None:
            return True  # files no distribution claims (a .pth the venv wrote) stay
        return owner in (self.closure.members if level == SAFE else self.traced_keep)

    def keeps_file(self, level: str, f: SiteFile) -> bool:
        """Whether `level` ships the file: an import may read it, its distribution stays, and at the
        traced level it is no shared object the loader never opened (`never_loaded`)."""
        if f.removable is not None or not self.keeps(level, f.owner):
            return False
        return level == SAFE or not self.never_loaded(f)

    def never_loaded(self, f: SiteFile) -> bool:
        """A shared object the loader never opened, of a distribution whose code the trace did open."""
        return f.shared_object and not f.opened and f.owner in self.loaded

    def dropped_as(self, owner: str) -> str:
        """Why a distribution outside the closure goes, as a report category."""
        if owner in INSTALLER_TOOLS:
            return INSTALLER
        return UNUSED_DECLARED if owner in self.declared else UNREQUIRED


def _sources(site: Path, files: Iterable[tuple[str, str | None]], members: frozenset[str]) -> dict[str, str]:
    """The text of every .py file of the closure that may be imported."""
    texts = {}
    for rel, owner in files:
        if rel.endswith(".py") and (owner is None or owner in members) and strip.file_category(rel) is None:
            try:
                texts[rel] = (site / rel).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
    return texts


def _listing(site: Path) -> list[Path]:
    real = site.resolve()
    return [
        p
        for p in sorted(site.rglob("*"))
        if p.is_file() and not (p.is_symlink() and not inside(p, real))  # never a link out of site
    ]


def plan_site(
    site: Path,
    dists: Mapping[str, Distribution],
    opened: set[str],
    roots: Mapping[str, set[str]],
    declared: Iterable[str],
) -> SitePlan:
    """Classify every file of site. roots: the distributions the app imports statically or the trace
    touched, with the extras asked of them; opened: the files of site the trace opened."""
    touched = touched_distributions(opened, dists)
    closure = requirement_closure(roots, dists)
    static = set(roots) - set(touched)
    traced_keep = frozenset((traced_roots(touched) | static) & closure.members)
    by_file, by_top = _owners(dists)
    paths = _listing(site)
    owned = [(str(p.relative_to(site)), by_file.get(str(p.relative_to(site)))) for p in paths]
    owned = [(rel, key or by_top.get(rel.split("/", 1)[0])) for rel, key in owned]
    members = closure.members
    candidates = strip.folder_candidates(rel for rel, owner in owned if owner is None or owner in members)
    needed = strip.needed_folders(candidates, _sources(site, owned, members), opened)
    files = []
    for path, (rel, owner) in zip(paths, owned, strict=True):
        removable = None if rel in opened else strip.file_category(rel)
        folder = next((c for c in candidates if rel.startswith(c + "/")), None)
        if removable is None and folder is not None and folder not in needed:
            removable = candidates[folder]
        shared = strip.is_shared_object(path)
        files.append(SiteFile(rel, path.stat().st_size, owner, removable, shared, rel in opened))
    declared_keys = frozenset(canonical(d) for d in declared)
    loaded = frozenset(traced_roots(touched) & closure.members)
    return SitePlan(closure, traced_keep, declared_keys, tuple(files), loaded)


def trim_site_packages(
    site: Path,
    dists: Mapping[str, Distribution],
    plan: SitePlan,
    level: str,
    dest: Path,
    scratch: Path,
    result: TrimTally,
) -> None:
    """Copy what `level` keeps from site to dest (shared objects stripped), counting both levels."""
    result.level = level
    for name in LEVELS:  # counted even when site-packages is empty
        result.levels.setdefault(name, {})
    dest.mkdir(parents=True, exist_ok=True)  # even empty: the proofs and the runs read it
    stripped = _strip(site, plan, level, dest, scratch)
    for f in plan.files:
        _add(result.before, SITE, f.size)
        size = stripped.get(f.rel, f.size)
        for name in LEVELS:
            _count(result, name, plan, f, size)
        if plan.keeps_file(level, f):
            _add(result.kept, "distributions" if f.owner else "unowned files", size)
            if f.size - size:
                _add(result.removed, strip.DEBUG_SYMBOLS, f.size - size)
            if f.rel not in stripped:
                _place(site / f.rel, dest / f.rel)
        else:
            _add(result.removed, _why_removed(plan, level, f), f.size)
    kept = plan.closure.members if level == SAFE else plan.traced_keep
    result.kept_distributions = sorted(dists[k].name for k in kept)
    result.dropped_distributions = sorted(dists[k].name for k in dists if k not in kept)
    result.untraced = [
        Untraced(dists[k].name, plan.closure.required_by[k] or "the app")
        for k in sorted(plan.closure.members - plan.traced_keep)
    ]
    result.untraced_shared_objects = [
        f.rel for f in plan.files if plan.keeps_file(SAFE, f) and plan.never_loaded(f)
    ]


def _why_removed(plan: SitePlan, level: str, f: SiteFile) -> str:
    if f.owner is not None and not plan.keeps(level, f.owner):
        return plan.dropped_as(f.owner) if not plan.keeps(SAFE, f.owner) else UNTRACED
    if f.removable is not None:
        return f.removable
    return UNTRACED_SHARED_OBJECTS if plan.never_loaded(f) else strip.CACHES


def _count(result: TrimTally, level: str, plan: SitePlan, f: SiteFile, size: int) -> None:
    if plan.keeps_file(level, f):
        result.count(level, "kept", size)
        if f.size - size:
            result.count(level, strip.DEBUG_SYMBOLS, f.size - size)
    else:
        result.count(level, _why_removed(plan, level, f), f.size)


def _strip(site: Path, plan: SitePlan, level: str, dest: Path, scratch: Path) -> dict[str, int]:
    """Strip every shared object the safe level keeps: into dest when `level` keeps it, else into
    scratch only to count what stripping would save. Returns each one's stripped size."""
    pairs, measured = [], scratch / "stripped"
    for f in plan.files:
        if f.shared_object and plan.keeps_file(SAFE, f):
            pairs.append((f.rel, dest / f.rel if plan.keeps_file(level, f) else measured / f.rel))
    done = strip.strip_all([(site / rel, to) for rel, to in pairs])
    shutil.rmtree(measured, ignore_errors=True)
    return {rel: s.after for (rel, _), s in zip(pairs, done, strict=True)}


def trim_app(
    app: AppFiles, scan: FileScan, dest: Path, result: TrimTally, unused: Iterable[str] = ()
) -> None:
    """Copy the app's own files through its file layer; redundant files and secrets never reach the image.
    `unused`: the app's modules nothing imports, reported, and left out at the traced level.

    A copy, never a link: OUT must not alias the user's files, nor follow a link out of the app.
    """
    _add(result.before, APP, sum(scan.sizes.values()))
    result.unused_app_modules = sorted(unused)
    left_out = set(unused) if result.level == TRACED else set()
    for rel in scan.keep:
        size = scan.sizes[rel]
        for level in result.levels:
            result.count(level, UNUSED_APP_MODULES if level == TRACED and rel in unused else "kept", size)
        if rel in left_out:
            _add(result.removed, UNUSED_APP_MODULES, size)
            continue
        try:
            app.copy(rel, dest / rel)
        except AppFileRefused as refused:  # changed since the scan: left out, and said so
            app.note(rel, refused.reason)
            continue
        _add(result.kept, "app", size)
    for category, files in scan.redundant.items():
        _add(result.removed, f"app {category}", sum(scan.sizes[f] for f in files))
        for level in result.levels:
            result.count(level, f"app {category}", sum(scan.sizes[f] for f in files))
    if scan.secrets:
        _add(result.removed, "app secrets (never copied)", sum(scan.sizes[f] for f in scan.secrets))

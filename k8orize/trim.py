"""Build the minimal app layer (OUT/image/) at package granularity, and account for every byte.

A distribution the trace touched is kept whole: dropping single files inside a package breaks lazy
imports. Only whole untouched distributions go, plus caches everywhere and tests/docs folders inside
kept packages that the trace never entered.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .analyze import FileScan
from .appfiles import AppFileRefused, AppFiles, inside
from .distributions import Distribution

SITE = "site-packages"
APP = "app"
_TEST_DIRS = frozenset({"tests", "test"})
_DOC_DIRS = frozenset({"docs", "doc"})


@dataclass
class TrimTally:
    """Bytes counted while the layer is copied: before and after by category, and which distributions
    were kept or dropped. Filled by `trim_site_packages` and `trim_app`, then frozen by `result()`."""

    before: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    kept_distributions: list[str] = field(default_factory=list)
    dropped_distributions: list[str] = field(default_factory=list)

    def result(self) -> TrimResult:
        return TrimResult(
            before=dict(self.before),
            removed=dict(sorted(self.removed.items())),
            kept=dict(sorted(self.kept.items())),
            kept_distributions=tuple(self.kept_distributions),
            dropped_distributions=tuple(self.dropped_distributions),
        )


@dataclass(frozen=True)
class TrimResult:
    """The trimmed layer's figures: bytes before and after by category, distributions kept and dropped."""

    before: dict[str, int]
    removed: dict[str, int]
    kept: dict[str, int]
    kept_distributions: tuple[str, ...]
    dropped_distributions: tuple[str, ...]

    @property
    def bytes_before(self) -> int:
        return sum(self.before.values())

    @property
    def bytes_after(self) -> int:
        return sum(self.kept.values())

    @property
    def reduction(self) -> float:
        return 1 - self.bytes_after / self.bytes_before if self.bytes_before else 0.0


def _add(bucket: dict[str, int], key: str, size: int) -> None:
    bucket[key] = bucket.get(key, 0) + size


def _place(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)  # same filesystem: no copy needed, the bytes are identical
    except OSError:
        shutil.copy2(src, dst)


def _owners(dists: dict[str, Distribution]) -> tuple[dict[str, str], dict[str, str]]:
    by_file, by_top = {}, {}
    for key, dist in dists.items():
        by_top[dist.metadata_dir] = key
        for rel in dist.files:
            by_file[rel] = key
            by_top.setdefault(rel.split("/", 1)[0], key)
    return by_file, by_top


def touched_distributions(
    opened: set[str], site: Path, dists: dict[str, Distribution]
) -> dict[str, set[str]]:
    """Distributions whose code (not just their dist-info metadata) the trace opened, with those files."""
    by_file, by_top = _owners(dists)
    prefixes = {str(site) + "/", str(site.resolve()) + "/"}
    touched: dict[str, set[str]] = {}
    for path in opened:
        prefix = next((p for p in prefixes if path.startswith(p)), None)
        if prefix is None:
            continue
        rel = path[len(prefix) :]
        top = rel.split("/", 1)[0]
        if top.endswith((".dist-info", ".egg-info")):
            continue  # metadata scans (entry points, versions) read every dist-info
        key = by_file.get(rel) or by_top.get(top)
        if key:
            touched.setdefault(key, set()).add(rel)
    return touched


def _special_dir(rel: str) -> tuple[str | None, str | None]:
    """(category, subtree prefix) when rel lies under a cache, tests or docs folder."""
    parts = rel.split("/")[:-1]
    for i, part in enumerate(parts):
        if part == "__pycache__":
            return "caches", "/".join(parts[: i + 1])
        if part in _TEST_DIRS:
            return "tests", "/".join(parts[: i + 1])
        if part in _DOC_DIRS:
            return "docs", "/".join(parts[: i + 1])
    return None, None


def _entered(touched_files: set[str]) -> set[str]:
    """tests/docs subtrees the trace actually entered (those stay)."""
    entered = set()
    for rel in touched_files:
        category, prefix = _special_dir(rel.replace("/__pycache__/", "/"))
        if prefix and category != "caches":
            entered.add(prefix)
    return entered


def trim_site_packages(
    site: Path, dists: dict[str, Distribution], touched: dict[str, set[str]], dest: Path, result: TrimTally
) -> None:
    """Copy kept distributions from site to dest, counting kept and removed bytes by category."""
    by_file, by_top = _owners(dists)
    entered = _entered(set().union(*touched.values()) if touched else set())
    real_site = site.resolve()
    for path in sorted(site.rglob("*")):
        if not path.is_file() or (path.is_symlink() and not inside(path, real_site)):
            continue  # a link out of site-packages is never copied into OUT
        rel = str(path.relative_to(site))
        size = path.stat().st_size
        _add(result.before, SITE, size)
        key = by_file.get(rel) or by_top.get(rel.split("/", 1)[0])
        category, prefix = _special_dir(rel)
        if key is not None and key not in touched:
            _add(result.removed, "untouched distributions", size)
        elif category == "caches" or (category and prefix not in entered):
            _add(result.removed, category, size)
        else:
            _add(result.kept, "distributions" if key else "unowned files", size)
            _place(path, dest / rel)
    result.kept_distributions = sorted(dists[k].name for k in touched if k in dists)
    result.dropped_distributions = sorted(dists[k].name for k in dists if k not in touched)


def trim_app(app: AppFiles, scan: FileScan, dest: Path, result: TrimTally) -> None:
    """Copy the app's own files through its file layer; redundant files and secrets never reach the image.

    A copy, never a link: OUT must not alias the user's files, nor follow a link out of the app.
    """
    _add(result.before, APP, sum(scan.sizes.values()))
    for rel in scan.keep:
        try:
            app.copy(rel, dest / rel)
        except AppFileRefused as refused:  # changed since the scan: left out, and said so
            app.note(rel, refused.reason)
            continue
        _add(result.kept, "app", scan.sizes[rel])
    for category, files in scan.redundant.items():
        _add(result.removed, f"app {category}", sum(scan.sizes[f] for f in files))
    if scan.secrets:
        _add(result.removed, "app secrets (never copied)", sum(scan.sizes[f] for f in scan.secrets))

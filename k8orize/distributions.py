"""Installed distributions in a site-packages folder: their files and the import names they provide.

Import names differ from distribution names (PIL comes from pillow, google.protobuf from protobuf),
so the mapping comes from each distribution's own RECORD and top_level.txt, never from guessing.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path

_META_FILE = re.compile(r"^[^/]+\.(dist-info|egg-info)/")


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Distribution:
    """One installed distribution: its name, version, files (relative to site-packages), import names."""

    name: str
    version: str
    metadata_dir: str
    files: list[str] = field(default_factory=list)
    import_names: set[str] = field(default_factory=set)
    requires: list[str] = field(default_factory=list)
    #: Every Requires-Dist line as written, extras and markers included (k8orize/closure.py reads them).
    requires_dist: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return canonical(self.name)

    def code_files(self) -> list[str]:
        """Files that are not the distribution's own metadata (dist-info)."""
        return [f for f in self.files if not _META_FILE.match(f)]


def _metadata_field(text: str, key: str) -> list[str]:
    """Every value of one header of a METADATA file (RFC 822 style: a value may continue on indented
    lines, a blank-looking one included, as a long License does)."""
    headers = HeaderParser().parsestr(text, headersonly=True)
    return [" ".join(str(value).split()) for value in headers.get_all(key) or []]


def _record_files(site: Path, meta: Path) -> list[str]:
    record = meta / "RECORD"
    if not record.is_file():
        return [str(p.relative_to(site)) for p in meta.rglob("*") if p.is_file()]
    files = []
    with record.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            if not row or row[0].startswith(("..", "/")):
                continue  # console scripts land outside site-packages
            files.append(str(Path(row[0])))
    return files


def _import_names(meta: Path, files: list[str]) -> set[str]:
    top_level = meta / "top_level.txt"
    if top_level.is_file():
        names = {line.strip() for line in top_level.read_text().splitlines() if line.strip()}
        if names:
            return names
    names = set()
    for rel in files:
        first = rel.split("/", 1)[0]
        if _META_FILE.match(rel) or first in ("__pycache__", "..") or first.endswith(".pth"):
            continue
        if "/" in rel:
            names.add(first)
        elif rel.endswith(".py"):
            names.add(rel[:-3])
        elif rel.endswith(".so"):
            names.add(rel.split(".", 1)[0])
    return names


def read_distribution(site: Path, meta: Path) -> Distribution:
    """Parse one *.dist-info folder."""
    text = (
        (meta / "METADATA").read_text(encoding="utf-8", errors="replace")
        if (meta / "METADATA").is_file()
        else ""
    )
    name = (_metadata_field(text, "Name") or [meta.name.split("-", 1)[0]])[0]
    version = (_metadata_field(text, "Version") or ["0"])[0]
    files = _record_files(site, meta)
    requires_dist = _metadata_field(text, "Requires-Dist")
    requires = [r for r in requires_dist if "extra ==" not in r]
    return Distribution(name, version, meta.name, files, _import_names(meta, files), requires, requires_dist)


def installed(site: Path) -> dict[str, Distribution]:
    """Every distribution in site, keyed by canonical name."""
    dists = {}
    for meta in sorted(site.glob("*.dist-info")):
        dist = read_distribution(site, meta)
        dists[dist.key] = dist
    return dists


def owner_index(site: Path, dists: dict[str, Distribution]) -> dict[str, str]:
    """Map each file (relative to site) to the canonical name of the distribution that owns it."""
    index = {}
    for key, dist in dists.items():
        for rel in dist.files:
            index[rel] = key
    return index


def import_index(dists: dict[str, Distribution]) -> dict[str, str]:
    """Map each top-level import name to the distribution providing it."""
    index: dict[str, str] = {}
    for key, dist in dists.items():
        for name in dist.import_names:
            index.setdefault(name, key)
    return index

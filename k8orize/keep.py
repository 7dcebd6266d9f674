"""Keep exactly what k8orize verified and remove the rest: run by the repository's Dockerfile at build time.

    python keep.py --site SITE_PACKAGES keep-list.txt    # distributions: the listed ones, at their versions
    python keep.py --app APP_FOLDER keep-files.txt       # the app's files: the listed ones

k8orize copies this file into OUT/repository/ (a pull request commits it as k8or/repository/keep.py).
It runs in the base image before anything else is installed, so it needs the standard library only.
A kept distribution at another version, or missing, or a kept file that is gone, fails the build: the
app is then no longer what was verified, and k8orize should run again.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sys
from pathlib import Path


class NotAsVerified(Exception):
    """What was installed or copied is not what k8orize verified."""


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_keep_list(path: Path) -> dict[str, str]:
    """`name==version` lines (comments and blank lines ignored), keyed by canonical name."""
    kept: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            kept[canonical(name)] = version.strip()
    return kept


def _metadata(dist_info: Path) -> tuple[str, str]:
    name, version = dist_info.name.split("-")[0], ""
    metadata = dist_info / "METADATA"
    text = metadata.read_text(encoding="utf-8", errors="replace") if metadata.is_file() else ""
    for line in text.splitlines():
        if not line.strip():
            break  # the headers end at the first blank line
        key, _, value = line.partition(":")
        if key == "Name":
            name = value.strip()
        elif key == "Version":
            version = value.strip()
    return name, version


def _owned_files(site: Path, dist_info: Path) -> list[Path]:
    record = dist_info / "RECORD"
    if not record.is_file():
        return [p for p in dist_info.rglob("*") if p.is_file()]
    with record.open(encoding="utf-8", newline="") as handle:
        rows = [row[0] for row in csv.reader(handle) if row]
    inside = [(site / row).resolve() for row in rows]
    return [p for p in inside if p.is_relative_to(site.resolve())]


def _remove(paths: list[Path], root: Path) -> None:
    for path in paths:
        if path.is_symlink() or path.is_file():
            path.unlink()
    for folder in sorted({p.parent for p in paths}, key=lambda p: len(p.parts), reverse=True):
        while folder != root and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def keep_distributions(site: Path, kept: dict[str, str]) -> tuple[int, int]:
    """Remove every distribution of `site` that `kept` does not name; (kept, removed) counts."""
    found, removed = set(), 0
    for dist_info in sorted(site.glob("*.dist-info")):
        name, version = _metadata(dist_info)
        key = canonical(name)
        if key in kept:
            if kept[key] and version != kept[key]:
                raise NotAsVerified(f"{name} {version} was installed, but {kept[key]} was verified")
            found.add(key)
            continue
        _remove(_owned_files(site, dist_info), site)
        shutil.rmtree(dist_info, ignore_errors=True)
        removed += 1
    missing = sorted(set(kept) - found)
    if missing:
        raise NotAsVerified(f"verified but not installed: {', '.join(missing)}")
    shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts: the image calls python itself
    for cache in sorted(site.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache, ignore_errors=True)
    return len(found), removed


def keep_files(app: Path, listed: list[str]) -> tuple[int, int]:
    """Remove every file of `app` that `listed` does not name; (kept, removed) counts."""
    wanted = {Path(rel) for rel in listed}
    gone = sorted(str(rel) for rel in wanted if not (app / rel).is_file())
    if gone:
        raise NotAsVerified(f"the app changed since it was verified: {', '.join(gone)} no longer there")
    entries = list(app.rglob("*"))
    folders = {p for p in entries if p.is_dir() and not p.is_symlink()}
    extra = [p for p in entries if p not in folders and p.relative_to(app) not in wanted]
    _remove(extra, app)
    for folder in sorted(folders, key=lambda p: -len(p.parts)):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return len(wanted), len(extra)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Keep what k8orize verified; remove the rest.")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--site", type=Path, help="a site-packages folder, pruned to keep-list.txt")
    where.add_argument("--app", type=Path, help="the app's folder, pruned to keep-files.txt")
    parser.add_argument("listing", type=Path, help="keep-list.txt or keep-files.txt")
    args = parser.parse_args(argv)
    try:
        if args.site:
            counts = keep_distributions(args.site, read_keep_list(args.listing))
            what = "distributions"
        else:
            lines = args.listing.read_text(encoding="utf-8").splitlines()
            counts = keep_files(args.app, [ln for ln in lines if ln.strip() and not ln.startswith("#")])
            what = "files"
    except NotAsVerified as exc:
        print(f"keep.py: {exc}. Run k8orize again to verify the app as it is now.", file=sys.stderr)
        return 1
    print(f"keep.py: kept {counts[0]} {what}, removed {counts[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

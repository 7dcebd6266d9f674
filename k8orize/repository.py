"""OUT/repository/: what builds the image in the app's own repository, without OUT/image/.

A pull request commits OUT's text outputs as `k8or/` in the app's folder; this part of them is the
Dockerfile that the repository's CI builds (`docker build -f k8or/repository/Dockerfile .`), and the
keep-lists it applies after installing the app's requirements:

- keep-list.txt: the distributions the trimmed tree holds, `name==version` (pip reads it as constraints
  too, so the build installs the versions that were verified). Only when a trace proved them necessary.
- keep-files.txt: the app's files the image carries (no tests, docs, caches or secrets).
- keep.py: the standard-library script that keeps those and removes everything else.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

from . import dockerfile, keep, trim
from .distributions import installed

FOLDER = dockerfile.REPOSITORY
_KEEP_LIST_HEADER = (
    "# The distributions k8orize's trace proved necessary, at the versions it verified.\n"
    "# The Dockerfile installs the app's requirements with this file as pip constraints, then keep.py\n"
    "# removes every distribution it does not name. Regenerate it with k8orize, not by hand.\n"
)
_KEEP_FILES_HEADER = (
    "# The app's files the image carries (paths relative to the app's folder), as k8orize verified them.\n"
)


@dataclass(frozen=True)
class RepositoryBuild:
    """What OUT/repository/ holds: how many distributions and app files its build keeps."""

    distributions: int | None  # None: no trace, so the requirements are installed whole
    files: int

    def __str__(self) -> str:
        kept = f"{self.distributions} distributions and " if self.distributions is not None else ""
        return f"{FOLDER}/Dockerfile keeps {kept}{self.files} app files"


def keep_list(site: Path) -> list[str]:
    """`name==version` for every distribution in a (trimmed) site-packages folder, sorted by name."""
    dists = installed(site) if site.is_dir() else {}
    return [f"{dist.name}=={dist.version}" for _, dist in sorted(dists.items())]


def kept_files(app: Path) -> list[str]:
    """The app's files in the trimmed tree, relative to the app's folder."""
    return (
        sorted(p.relative_to(app).as_posix() for p in app.rglob("*") if p.is_file()) if app.is_dir() else []
    )


def write(out: Path, spec: dockerfile.DockerfileSpec, *, requirements: str | None) -> RepositoryBuild:
    """Write OUT/repository/ from the trimmed tree in OUT/image/ (`requirements`: the app's requirements
    file, None when the app installs itself as a project)."""
    folder = out / FOLDER
    folder.mkdir(exist_ok=True)
    image = out / "image"
    files = kept_files(image / trim.APP)
    (folder / "keep-files.txt").write_text(_KEEP_FILES_HEADER + "".join(f"{rel}\n" for rel in files))
    (folder / "keep.py").write_text(inspect.getsource(keep))
    pins = keep_list(image / trim.SITE) if spec.traced else None
    if pins is not None:
        (folder / "keep-list.txt").write_text(_KEEP_LIST_HEADER + "".join(f"{pin}\n" for pin in pins))
    source = dockerfile.RepositoryInstall(requirements, keep_list=pins is not None)
    (folder / "Dockerfile").write_text(dockerfile.render_repository(spec, source))
    return RepositoryBuild(len(pins) if pins is not None else None, len(files))

"""Which GitHub repository `k8orize repo` reads: `owner/repo[@ref][:subdir]`, parsed and checked.

A module of its own so the command's grammar (dialogs.k8orize) parses it without importing the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class RepositorySource:
    """`owner/repo[@ref][:subdir]`: which repository, which ref (default branch when None), which folder."""

    repository: str
    ref: str | None = None
    subdir: str | None = None

    PATTERN = re.compile(
        r"^(?P<repository>[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100})"
        r"(?:@(?P<ref>[^:\s]+))?(?::(?P<subdir>.+))?$"
    )

    @classmethod
    def parse(cls, raw: str) -> RepositorySource:
        """The grammar's converter: a ValueError names what is wrong."""
        found = cls.PATTERN.match(raw.strip())
        if not found or found["repository"].split("/")[1] in (".", ".."):
            raise ValueError("expected owner/repo, optionally @ref and :folder (octo/shop@main:web)")
        subdir = (found["subdir"] or "").strip("/") or None
        if subdir and ".." in PurePosixPath(subdir).parts:
            raise ValueError(f"the folder `{subdir}` must be inside the repository")
        return cls(found["repository"], found["ref"], subdir)

    @property
    def app_name(self) -> str:
        """The folder's name, else the repository's: the extracted top folder is `owner-repo-<sha>`."""
        return PurePosixPath(self.subdir).name if self.subdir else self.repository.split("/")[1]

    def __str__(self) -> str:
        return (
            self.repository
            + (f"@{self.ref}" if self.ref else "")
            + (f":{self.subdir}" if self.subdir else "")
        )

"""The installed distributions' entry points, read in one scan per search path.

Every plugin group k8or loads at start (`k8or.connectors`, `k8or.commands`) is selected from the
same scan: `importlib.metadata.entry_points(group=…)` reads every distribution's metadata on each
call, and a full venv holds some hundreds of them. The scan is keyed by `sys.path`, so a path that
changes (a test that lays out a distribution) is scanned afresh; a distribution installed into a path
already scanned is seen by the next process (plugins are installed before k8or starts), or after
`rescan()`.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from importlib.metadata import EntryPoints, entry_points
from typing import Protocol


class _Installed(Protocol):
    """Every entry point installed (Python 3.11's SelectableGroups, 3.12's EntryPoints)."""

    def select(self, *, group: str) -> EntryPoints: ...


@lru_cache(maxsize=4)
def _scan(path: tuple[str, ...]) -> _Installed:
    return entry_points()


def in_group(group: str) -> EntryPoints:
    """The entry points installed under `group`."""
    return _scan(tuple(sys.path)).select(group=group)


def rescan() -> None:
    """Forget the scans: the next `in_group` reads the installed distributions again."""
    _scan.cache_clear()

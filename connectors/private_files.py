"""Files only k8or's own user may open: its data directory (0700), database and key files (0600).

They are created with those modes, whatever the umask, and tightened with a warning when found
looser at start: the database holds every person's sealed credentials and the key that opens
them, and a 0644 file in a 0755 folder hands both to every local account.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_directory(path: Path) -> Path:
    """Create `path` (and missing parents) as 0700; tighten it to 0700 if others may enter it.

    A shared directory (sticky, like /tmp) or one another account owns is left alone.
    """
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    info = path.stat()
    if info.st_mode & stat.S_ISVTX or info.st_uid != os.getuid():
        return path
    _tighten(path, info.st_mode, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty as 0600 if it is missing; tighten it to 0600 if others may read it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE))
    except FileExistsError:
        tighten_file(path)
    return path


def tighten_file(path: Path) -> None:
    """Make an existing regular file 0600 if group or others have any access; a link is not followed."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode):
        _tighten(path, mode, PRIVATE_FILE)


def _tighten(path: Path, mode: int, wanted: int) -> None:
    if stat.S_IMODE(mode) & 0o077 == 0:
        return
    os.chmod(path, wanted)
    log.warning(
        "%s was open to other local users (mode %s); changed it to %s",
        path,
        oct(stat.S_IMODE(mode)),
        oct(wanted),
    )

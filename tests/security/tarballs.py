"""Hand-built tar.gz archives for the archive attacks: links, special members, member bombs."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

TOP = "octo-evil-0a1b2c3"


Member = tuple[tarfile.TarInfo, bytes]


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", data: bytes = b"x") -> Member:
    """One archive member under TOP (TOP itself when name is empty); regular files carry `data`."""
    info = tarfile.TarInfo(f"{TOP}/{name}" if name else TOP)
    info.type, info.linkname = (tarfile.DIRTYPE if not name else kind), link
    info.size = len(data) if info.type == tarfile.REGTYPE else 0
    info.mode = 0o755 if info.type == tarfile.DIRTYPE else 0o644
    info.devmajor, info.devminor = (1, 5) if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE) else (0, 0)
    return info, data


def tar_gz(*members: Member, fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """A tar.gz of members in the given order (order matters for link chains)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


def member_bomb(path: Path, members: int) -> int:
    """Write a tar.gz of `members` empty files to path (a few MB holding hundreds of thousands of
    headers, as the reviewer's was) and return its size. Headers are patched from one template so
    building it takes a second, not a minute."""
    template = bytearray(tarfile.TarInfo(f"{TOP}/f0000000").tobuf(tarfile.USTAR_FORMAT))
    digits = len(f"{TOP}/f")
    base = sum(template[:148]) + sum(template[156:]) + 8 * 0x20 - sum(b"0000000")
    with gzip.open(path, "wb", compresslevel=6) as out:
        for start in range(0, members, 10_000):
            chunk = bytearray()
            for i in range(start, min(start + 10_000, members)):
                name = b"%07d" % i
                template[digits : digits + 7] = name
                template[148:156] = b"%06o\0 " % (base + sum(name))
                chunk += template
            out.write(chunk)
        out.write(b"\0" * 1024)
    return path.stat().st_size

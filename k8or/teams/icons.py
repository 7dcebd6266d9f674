"""The Teams app's two icons, drawn here and written as PNG with zlib (no imaging library).

The mark is a ship's wheel -- seven spokes, a rim and a hub, Kubernetes' own symbol -- drawn from
signed distances so its edges are anti-aliased at any size. Teams wants a 192x192 full-colour icon
and a 32x32 outline that is white on a transparent background.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable

COLOR_SIZE = 192
OUTLINE_SIZE = 32
ACCENT = (0x32, 0x6C, 0xE5)  # the blue behind the mark; the manifest's accentColor
WHITE = (0xFF, 0xFF, 0xFF)
_SPOKES = 7
_SPOKE_ANGLES = [2 * math.pi * k / _SPOKES - math.pi / 2 for k in range(_SPOKES)]


def accent_hex() -> str:
    return "#" + "".join(f"{c:02X}" for c in ACCENT)


def color_icon() -> bytes:
    """192x192, opaque: the white wheel inside Teams' safe area on the accent blue."""
    return _draw(COLOR_SIZE, mark_radius=0.36, paint=_on_accent)


def outline_icon() -> bytes:
    """32x32: the wheel in white, everything else fully transparent."""
    return _draw(OUTLINE_SIZE, mark_radius=0.47, paint=_white_alpha)


def _on_accent(cover: float) -> tuple[int, int, int, int]:
    r, g, b = (round(a + (w - a) * cover) for a, w in zip(ACCENT, WHITE, strict=True))
    return r, g, b, 255


def _white_alpha(cover: float) -> tuple[int, int, int, int]:
    return (*WHITE, round(255 * cover))


def _draw(size: int, mark_radius: float, paint: Callable[[float], tuple[int, int, int, int]]) -> bytes:
    scale = size * mark_radius  # pixels per unit of the wheel's coordinates (rim radius ~ 0.8)
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            px, py = (x + 0.5 - size / 2) / scale, (y + 0.5 - size / 2) / scale
            cover = min(1.0, max(0.0, 0.5 - _wheel(px, py) * scale))
            row.extend(paint(cover))
        rows.append(bytes(row))
    return _png(size, size, rows)


def _wheel(x: float, y: float) -> float:
    """Signed distance (negative inside) from (x, y) to the wheel of radius 1."""
    r = math.hypot(x, y)
    rim = abs(r - 0.72) - 0.09
    hub = r - 0.2
    shapes = [rim, hub]
    for angle in _SPOKE_ANGLES:
        ux, uy = math.cos(angle), math.sin(angle)
        along = min(0.86, max(0.0, x * ux + y * uy))
        shapes.append(math.hypot(x - along * ux, y - along * uy) - 0.07)
        shapes.append(math.hypot(x - 0.9 * ux, y - 0.9 * uy) - 0.11)  # the handle at the spoke's end
    return min(shapes)


def _png(width: int, height: int, rgba_rows: list[bytes]) -> bytes:
    """An 8-bit RGBA PNG (colour type 6), each row unfiltered."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + row for row in rgba_rows), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")

"""How every size and duration reads, in chat and in files: one place, so "0.0 MB" and "in 1 s …
Done in 0s" cannot happen. Three significant digits, decimal units (1 MB = 10^6 bytes, as registries
and `docker images` show them), and a sub-second duration with its tenths."""

from __future__ import annotations

_SIZE_UNITS = ("kB", "MB", "GB", "TB")


def size(n_bytes: float) -> str:
    """`0 B`, `512 B`, `12.3 kB`, `1.23 MB`, `456 MB`, `2.1 GB`."""
    value = float(n_bytes)
    if abs(value) < 1000:
        return f"{value:.0f} B"
    unit = "B"
    for unit in _SIZE_UNITS:
        value /= 1000
        if abs(value) < 999.5 or unit == _SIZE_UNITS[-1]:
            break
    return f"{value:.3g} {unit}" if abs(value) < 100 else f"{value:.0f} {unit}"


def duration(seconds: float) -> str:
    """`0.4 s`, `9.8 s`, `42 s`, `3 min 5 s`, `1 h 2 min`: tenths only where they matter."""
    if seconds < 0.05:
        return "under 0.1 s"
    if seconds < 9.95:
        return f"{max(seconds, 0.0):.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    hours, rest = divmod(whole, 3600)
    return f"{hours} h" + (f" {rest // 60} min" if rest // 60 else "")

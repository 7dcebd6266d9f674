"""K8OR_DATABASE_URL as people write it, turned into the URL of the one engine `bot.db` runs.

- PostgreSQL runs on asyncpg: `postgresql://`, `postgres://` (Heroku, Render, many operators),
  `postgresql+psycopg://`, `postgresql+psycopg2://` and `postgresql+asyncpg://` all become
  `postgresql+asyncpg://`. The libpq parameters people add are translated to asyncpg's names:
  `sslmode` → `ssl` (same values), `connect_timeout` → `timeout`; `application_name`,
  `command_timeout` and `target_session_attrs` are understood too. The certificate files libpq
  takes in the URL (`sslrootcert`, `sslcert`, `sslkey`) are read from `PGSSLROOTCERT`, `PGSSLCERT`
  and `PGSSLKEY` by asyncpg instead.
- SQLite runs on one synchronous connection on the event loop's thread (`bot.db`): `sqlite:///…`,
  `sqlite+pysqlite:///…` and `sqlite+aiosqlite:///…` all become `sqlite+pysqlite:///…`.

Anything else stops the start with one line naming K8OR_DATABASE_URL and these forms. No message
ever repeats the URL: it may hold a password.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

POSTGRES = "postgresql+asyncpg"
SQLITE = "sqlite+pysqlite"
_POSTGRES_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2", POSTGRES}
_SQLITE_SCHEMES = {"sqlite", SQLITE, "sqlite+aiosqlite"}
_RENAMED = {"sslmode": "ssl", "connect_timeout": "timeout", "dbname": "database"}
# Passed to asyncpg as they are (bot.db moves the numeric ones and application_name into connect_args).
_PASSED = {
    *("ssl", "timeout", "command_timeout", "application_name", "target_session_attrs"),
    *("user", "password", "host", "port", "database"),
}
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
SECONDS = ("timeout", "command_timeout")  # asyncpg wants numbers; bot.db converts them
_CERT_FILES = {"sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY"}
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")

ACCEPTED = (
    "use postgresql://user:password@host:5432/database (also postgres://, postgresql+asyncpg://, "
    "postgresql+psycopg://) or sqlite:///path/to/k8or.db"
)


class DatabaseUrlError(ValueError):
    """The database URL cannot be used; the message names the part, never the URL itself."""


def normalise_database_url(url: str) -> str:
    """The URL `bot.db` opens for `url`: asyncpg for PostgreSQL, pysqlite for SQLite."""
    match = _SCHEME.match(url.strip())
    if match is None:
        raise DatabaseUrlError(f"not a database URL; {ACCEPTED}")
    scheme, rest = match.group(1).lower(), url.strip()[match.end() :]
    if scheme in _SQLITE_SCHEMES:
        return f"{SQLITE}://{rest}"
    if scheme not in _POSTGRES_SCHEMES:
        shown = scheme if len(scheme) <= 40 else scheme[:40] + "…"
        raise DatabaseUrlError(f"{shown}:// is not supported; {ACCEPTED}")
    location, _, query = rest.partition("?")
    translated = _asyncpg_query(query)
    return f"{POSTGRES}://{location}" + (f"?{translated}" if translated else "")


def _asyncpg_query(query: str) -> str:
    """libpq's query parameters under asyncpg's names; a parameter asyncpg cannot take is an error."""
    pairs: list[tuple[str, str]] = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        if any(_RENAMED.get(name, name) == seen for seen, _ in pairs):
            raise DatabaseUrlError(f"{name} is given twice")
        if name in _CERT_FILES:
            raise DatabaseUrlError(f"{name} in the URL is not supported; set {_CERT_FILES[name]} instead")
        renamed = _RENAMED.get(name, name)
        if renamed not in _PASSED:
            known = ", ".join(sorted({*_RENAMED, *_PASSED}))
            raise DatabaseUrlError(f"unknown parameter {name!r} (known: {known})")
        if renamed == "ssl" and value not in _SSL_MODES:
            raise DatabaseUrlError(f"{name} must be one of {', '.join(sorted(_SSL_MODES))}")
        if renamed in SECONDS and not _is_number(value):
            raise DatabaseUrlError(f"{name} must be a number of seconds")
        pairs.append((renamed, value))
    return urlencode(pairs)


def _is_number(value: str) -> bool:
    try:
        return float(value) >= 0
    except ValueError:
        return False


def libpq_url(url: str) -> str:
    """The same PostgreSQL database as a libpq URL (`postgresql://`, libpq's parameter names), for
    libpq clients such as psycopg; `command_timeout` has no libpq counterpart and is left out."""
    normalised = normalise_database_url(url)
    if not normalised.startswith(f"{POSTGRES}://"):
        raise DatabaseUrlError("a libpq URL exists for PostgreSQL only")
    location, _, query = normalised.removeprefix(f"{POSTGRES}://").partition("?")
    back = {asyncpg: libpq for libpq, asyncpg in _RENAMED.items()}
    pairs = [
        (back.get(k, k), v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "command_timeout"
    ]
    return f"postgresql://{location}" + (f"?{urlencode(pairs)}" if pairs else "")

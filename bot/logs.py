"""Structured logging: JSON lines, a correlation id per turn, and secrets scrubbed everywhere.

Scrubbing happens in a logging filter on the root handler, so a secret cannot reach the log by
any route: not in the message, not in its arguments, not in `extra` fields, not in a traceback.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")

REDACTED = "[redacted]"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),  # JWTs
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}"), REDACTED),  # Slack tokens
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), REDACTED),  # GitHub
    (re.compile(r"\bdckr_pat_[A-Za-z0-9_-]{10,}"), REDACTED),  # Docker Hub PATs
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED),  # AWS access key ids
    (re.compile(r"\bya29\.[A-Za-z0-9._-]{10,}"), REDACTED),  # Google access tokens
    (re.compile(r"\bgAAAAA[A-Za-z0-9_=-]{20,}"), REDACTED),  # Fernet tokens
    (
        re.compile(
            r"(?i)((?:password|passwd|secret|token|api[_-]?key|client_secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"',&}]+"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(://[^:/\s@]+:)[^@/\s]+(@)"), r"\1" + REDACTED + r"\2"),  # credentials in URLs
]

# A cheap first look before the full patterns: most log lines hold nothing secret-shaped.
_KEYWORDS = (
    "bearer",
    "basic",
    "password",
    "passwd",
    "secret",
    "token",
    "key",
    "://",
    "xox",
    "gh",
    "github_pat",
    "dckr_pat",
    "akia",
    "asia",
    "ya29.",
    "eyj",
    "gaaaaa",
)


class SecretScrubber:
    """Replaces known secret values and secret-shaped strings with a marker."""

    def __init__(self, known: Iterable[str] = ()):
        self._known: set[str] = set()
        self.add(known)

    def add(self, values: Iterable[str]) -> None:
        self._known.update(v for v in values if v and len(v) >= 6)

    def scrub(self, text: str) -> str:
        for value in self._known:
            if value in text:
                text = text.replace(value, REDACTED)
        lowered = text.lower()
        if not any(word in lowered for word in _KEYWORDS):  # the common case: nothing secret-shaped
            return text
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def scrub_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {k: self.scrub_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub_value(v) for v in value]
        return value


SCRUBBER = SecretScrubber()
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields from `logger.info(..., extra={...})` are kept."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        cid = correlation_id.get()
        if cid:
            payload["correlation_id"] = cid
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                # Anything json would stringify later is stringified now, so the scrubber sees it.
                plain = isinstance(value, str | int | float | bool | dict | list | tuple) or value is None
                payload[key] = value if plain else str(value)
        if record.exc_info:
            payload["exc"] = "".join(traceback.format_exception(*record.exc_info))
        # Scrub the values, not the JSON text: a pattern must never eat an escape and break the line.
        return orjson.dumps(SCRUBBER.scrub_value(payload), default=str).decode()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return SCRUBBER.scrub(super().format(record))


def configure_logging(level: str = "INFO", fmt: str = "json", stream: Any = None) -> None:
    """Install one handler on the root logger with the scrubbing formatter."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_k8or", False):
            root.removeHandler(old)
    handler._k8or = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("aiohttp.access", "msrest", "urllib3", "botocore", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))

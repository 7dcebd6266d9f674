"""Structured logging: JSON lines, a correlation id per turn, and secrets scrubbed everywhere.

Scrubbing (`redaction.SCRUBBER`) happens in the formatters of the one root handler, so a secret
cannot reach the log by any route: not in the message, its arguments, `extra` fields or a traceback.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import traceback
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson

from redaction import REDACTED, SCRUBBER, SecretScrubber  # noqa: F401 - the bot's names for them

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")


class AppSecrets:
    """One app's secret values in the process-wide SCRUBBER, for as long as the app lives.

    Logging is process-wide, so the scrubber is too; each app adds its secrets when it starts and
    `release()`s them when it closes, so building many apps (tests, `k8or chat`) does not grow it.
    A value two live apps share stays until the last of them releases it.
    """

    _holders: ClassVar[Counter[str]] = Counter()

    def __init__(self, values: Iterable[str]) -> None:
        self._values = frozenset(v for v in values if v)
        self._released = False
        AppSecrets._holders.update(self._values)
        SCRUBBER.add(self._values)

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        AppSecrets._holders.subtract(self._values)
        unused = [v for v in self._values if AppSecrets._holders[v] <= 0]
        for value in unused:
            del AppSecrets._holders[value]
        SCRUBBER.discard(unused)


_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The correlation id and the `extra={...}` fields of a record, as both formats show them."""
    fields: dict[str, Any] = {}
    cid = correlation_id.get()
    if cid:
        fields["correlation_id"] = cid
    for key, value in record.__dict__.items():
        if key not in _RESERVED and not key.startswith("_"):
            # Anything json would stringify later is stringified now, so the scrubber sees it.
            plain = isinstance(value, str | int | float | bool | dict | list | tuple) or value is None
            fields[key] = value if plain else str(value)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields from `logger.info(..., extra={...})` are kept."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **_extra_fields(record),
        }
        if record.exc_info:
            payload["exc"] = "".join(traceback.format_exception(*record.exc_info))
        # Scrub the values, not the JSON text: a pattern must never eat an escape and break the line.
        return orjson.dumps(SCRUBBER.scrub_value(payload), default=str).decode()


class TextFormatter(logging.Formatter):
    """`<time> INFO k8or.turn: turn command=help outcome=ok latency_ms=2.1`: the JSON line's fields as
    key=value, a value quoted when it holds a space, a quote or an `=`, scrubbed the same way."""

    def format(self, record: logging.LogRecord) -> str:
        fields = SCRUBBER.scrub_value(_extra_fields(record))
        pairs = "".join(f" {key}={_text_value(value)}" for key, value in fields.items())
        exc_text, record.exc_text = record.exc_text, None
        exc_info, record.exc_info = record.exc_info, None
        try:
            line = super().format(record) + pairs
        finally:
            record.exc_info, record.exc_text = exc_info, exc_text
        if exc_info:
            line += "\n" + "".join(traceback.format_exception(*exc_info)).rstrip("\n")
        return SCRUBBER.scrub(line)


_BARE = re.compile(r"[^\s\"'=\\]+")


def _text_value(value: Any) -> str:
    """A field's value for a text line: bare when it can be, else a JSON string (quotes escaped)."""
    if isinstance(value, dict | list | tuple):
        value = orjson.dumps(value, default=str).decode()
    elif value is None or isinstance(value, bool):
        value = orjson.dumps(value).decode()
    text = str(value)
    return text if _BARE.fullmatch(text) else orjson.dumps(text).decode()


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

"""An aiohttp access logger that keeps sign-in secrets out of the logs.

Sign-in link tokens travel in the URL path and OAuth codes and states in the callback's query, so the
default access log line would record them. Pass `access_log_class=RedactingAccessLogger` to the
AppRunner (or `web.run_app`) to log every request with those parts replaced.
"""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.signin.service import SIGNIN_PREFIX

_LINK = re.compile(rf"^{re.escape(SIGNIN_PREFIX)}/(?!callback(?:$|\?))[^/?]+")
_QUERY_SECRET = re.compile(r"(?i)\b(code|state|access_token|token)=[^&]*")


def redact(path_qs: str) -> str:
    """`path_qs` with link tokens and OAuth query values replaced by `…`."""
    path = _LINK.sub(f"{SIGNIN_PREFIX}/…", path_qs)
    return _QUERY_SECRET.sub(lambda m: f"{m.group(1)}=…", path)


class RedactingAccessLogger(AbstractAccessLogger):
    """One line per request: method, redacted path, status, size and time."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %s %.3fs',
            request.remote,
            request.method,
            redact(request.path_qs),
            response.status,
            response.body_length,
            time,
        )

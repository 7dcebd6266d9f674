"""Shared HTTP plumbing for connectors that speak REST through aiohttp, and for OAuth endpoints.

Every failure a service can produce is turned into a VerificationError here, in one place, so the
connectors read status codes, timeouts and broken bodies the same way.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import aiohttp

from connectors import errors

T = TypeVar("T")
DEFAULT_TIMEOUT = 10.0


def expired_hint(status: int, headers: Mapping[str, str]) -> bool:
    """True when a 401 says the token expired (RFC 6750 `WWW-Authenticate` error_description)."""
    challenge = headers.get("WWW-Authenticate", "") or ""
    return status == 401 and "expired" in challenge.lower()


def error_for(
    status: int, headers: Mapping[str, str], service: str, display_name: str
) -> errors.VerificationError:
    """The VerificationError for a failed HTTP response."""
    if expired_hint(status, headers):
        return errors.CredentialsExpired(service, display_name)
    retry_after = errors.parse_retry_after(headers.get("Retry-After"))
    return errors.for_status(status, service, display_name, retry_after)


def parsed(service: str, display_name: str, parse: Callable[[], T]) -> T:
    """Run `parse` on a decoded body; a missing key or wrong type means a malformed response."""
    try:
        return parse()
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise errors.MalformedResponse(service, display_name) from exc


def expires_in(seconds: Any, now: dt.datetime | None = None) -> str:
    """An ISO timestamp `seconds` from now, for storing a token's expiry beside it."""
    moment = (now or dt.datetime.now(dt.UTC)) + dt.timedelta(seconds=float(seconds))
    return moment.isoformat()


def parse_time(value: str | None) -> dt.datetime | None:
    """A timezone-aware datetime from an ISO string, or None."""
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def check_not_expired(expires_at: str | None, service: str, display_name: str) -> None:
    """Raise CredentialsExpired when a stored expiry is in the past; saves a round trip."""
    moment = parse_time(expires_at)
    if moment is not None and moment <= dt.datetime.now(dt.UTC):
        raise errors.CredentialsExpired(service, display_name)


class ServiceHttp:
    """One aiohttp session per connector, opened on first use and closed by `aclose`."""

    def __init__(self, service: str, display_name: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.service = service
        self.display_name = display_name
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        # A session belongs to the loop that made it; tests run one loop per test.
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._loop = loop
        return self._session

    async def aclose(self) -> None:
        """Close the session if one is open."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def request(
        self, method: str, url: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Send a request; return status, headers and body, or raise the matching VerificationError."""
        try:
            async with self._client().request(method, url, **kwargs) as response:
                body = await response.read()
                if response.status not in ok:
                    raise error_for(response.status, response.headers, self.service, self.display_name)
                return response.status, response.headers, body
        except TimeoutError as exc:
            raise errors.ServiceTimeout(self.service, self.display_name) from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise errors.ServiceUnreachable(self.service, self.display_name) from exc
        except aiohttp.ClientError as exc:
            raise errors.ServiceUnreachable(self.service, self.display_name) from exc

    async def json(
        self, method: str, url: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> tuple[Any, Mapping[str, str]]:
        """Like `request`, decoding a JSON body; a body that is not JSON is a malformed response."""
        _status, headers, body = await self.request(method, url, ok=ok, **kwargs)
        return self.decode(body), headers

    async def json_object(
        self, method: str, url: str, **kwargs: Any
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        """Like `json`, insisting on a JSON object at the top level."""
        body, headers = await self.json(method, url, **kwargs)
        if not isinstance(body, dict):
            raise errors.MalformedResponse(self.service, self.display_name)
        return body, headers

    def decode(self, body: bytes) -> Any:
        """Decode a JSON body or raise MalformedResponse."""
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.MalformedResponse(self.service, self.display_name) from exc


async def run_blocking(service: str, display_name: str, timeout: float, call: Callable[[], T]) -> T:
    """Run a blocking SDK call in a worker thread, giving up after `timeout` seconds.

    The SDKs are also configured with their own timeouts, so an abandoned thread ends soon after.
    """
    try:
        return await asyncio.wait_for(asyncio.to_thread(call), timeout)
    except TimeoutError as exc:
        raise errors.ServiceTimeout(service, display_name) from exc

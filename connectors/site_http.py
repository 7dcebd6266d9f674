"""requests plumbing that keeps a client on the one site the guard admitted.

`guard_session` mounts an adapter whose connections resolve the host themselves, refuse unless every
address is one the site may use, and connect to exactly the address they checked (no second lookup
that a rebinding DNS server could answer differently). A redirect to another origin is refused.
Behind an HTTP proxy (HTTPS_PROXY, an operator setting) requests connects to the proxy instead, and
only the name check before the call applies.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import allowed_gai_family
from urllib3.util.timeout import _DEFAULT_TIMEOUT

from connectors.sites import DEFAULT_PORTS, Site, SiteNotAllowed


class _CheckedConnect:
    """Mixin for urllib3 connections: resolve, check every address, connect to a checked one."""

    site: ClassVar[Site]
    _dns_host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        try:
            found = socket.getaddrinfo(self._dns_host, self.port, allowed_gai_family(), socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise SiteNotAllowed() from None
        if not found or not all(self.site.allows(str(info[4][0])) for info in found):
            raise SiteNotAllowed()
        sys.audit("http.client.connect", self, self._dns_host, self.port)
        return self._connect_first(found)

    def _connect_first(self, found: list[tuple[Any, ...]]) -> socket.socket:
        error: OSError | None = None
        for family, kind, proto, _name, address in found:
            sock = socket.socket(family, kind, proto)
            try:
                for level, option, value in self.socket_options or ():
                    sock.setsockopt(level, option, value)
                if self.timeout is not _DEFAULT_TIMEOUT:
                    sock.settimeout(self.timeout)
                if self.source_address:
                    sock.bind(self.source_address)
                sock.connect(address)
                return sock
            except TimeoutError as exc:
                sock.close()
                raise ConnectTimeoutError(self, "connection timed out") from exc
            except OSError as exc:
                sock.close()
                error = exc
        raise NewConnectionError(self, f"could not connect ({type(error).__name__})")  # type: ignore[arg-type]


def _pool_classes(site: Site) -> dict[str, type[HTTPConnectionPool]]:
    """Connection pool classes whose connections are checked against `site`."""
    checked_http = type("CheckedHTTPConnection", (_CheckedConnect, HTTPConnection), {"site": site})
    checked_https = type("CheckedHTTPSConnection", (_CheckedConnect, HTTPSConnection), {"site": site})
    return {
        "http": type("CheckedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": checked_http}),
        "https": type("CheckedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": checked_https}),
    }


class SiteAdapter(HTTPAdapter):
    """A requests adapter whose every connection is checked against one admitted site."""

    def __init__(self, site: Site, **kwargs: Any) -> None:
        self.site = site  # before super().__init__, which builds the pool manager
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.site)


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or ""), parts.port or DEFAULT_PORTS.get(scheme, 0)


def _same_origin_redirects(site: Site) -> Callable[..., requests.Response]:
    """A response hook refusing a redirect that leaves the site's scheme, host and port."""

    def hook(response: requests.Response, *_args: Any, **_kwargs: Any) -> requests.Response:
        location = response.headers.get("Location")
        if response.is_redirect and location is not None:
            if _origin(urljoin(response.url, location)) != (site.scheme, site.host, site.port):
                response.close()
                raise SiteNotAllowed()
        return response

    return hook


def guard_session(session: requests.Session, site: Site) -> requests.Session:
    """Make `session` talk only to `site`: checked connections, no redirects to another origin."""
    adapter = SiteAdapter(site)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.hooks["response"].append(_same_origin_redirects(site))
    return session

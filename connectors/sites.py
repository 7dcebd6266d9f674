"""Which service sites a person may make k8or contact: the one guard against SSRF through typed URLs.

Some sign-in forms ask for a site (Jira's "site URL"), so a person chooses where k8or sends requests
with their credentials. Left open, that lets anyone who can `login` make k8or call its own admin
ports, the cloud metadata service or hosts on the private network, and read what comes back.

The operator decides with `K8OR_SITE_ALLOWLIST`, comma-separated host or host:port globs
(`*.atlassian.net,jira.corp.example.com:8443`):

- set: a typed site must match an entry. An entry without a port matches the scheme's default port.
  An entry that names its host exactly (no `*`, `?` or `[`) also admits `http` and keeps a context
  path (Jira Server at `https://host/jira`); a wildcard entry admits `https` and the bare origin only.
  A listed name may resolve to private addresses (a corporate Jira), never to link-local, metadata,
  multicast or unspecified ones.
- empty: only `https` to public addresses; the site is cut to its origin.

Addresses are checked when the name is resolved before the call and again on the very address each
connection is made to (`connectors.site_http`), so a name that resolves differently the second
time (DNS rebinding) is caught. Every refusal raises the same `SiteNotAllowed`, with no detail:
telling "not allowed" from "nothing listens there" would make k8or a port scanner.
Operator settings (base URLs in K8OR_* settings) are not checked here: they stay trusted.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

SETTING = "K8OR_SITE_ALLOWLIST"
DEFAULT_PORTS = {"http": 80, "https": 443}
METADATA = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
NEVER_NETWORKS = (ipaddress.ip_network("0.0.0.0/8"),)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
HOST_GLOB = re.compile(r"[a-z0-9.*?\[\]-]+")
PORT_GLOB = re.compile(r"[0-9*?]+")
PATH_SEGMENT = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*")
GLOB_CHARS = frozenset("*?[")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list[tuple[Any, ...]]]


class SiteNotAllowed(Exception):
    """k8or will not contact this site. Carries no detail on purpose: every refusal looks the same."""


@dataclasses.dataclass(frozen=True)
class Site:
    """A typed site after the guard: where k8or may send requests, and which addresses may answer."""

    scheme: str
    host: str
    port: int
    path: str = ""
    listed: bool = False  # named by the allowlist or an operator setting: private addresses allowed

    @property
    def url(self) -> str:
        """The normalised site URL: scheme://host[:port][/context], no query, no fragment."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path}"

    def allows(self, address: str) -> bool:
        """True when k8or may connect to `address` (an IP, as the resolver returns it) for this site."""
        return address_allowed(address, listed=self.listed)


@dataclasses.dataclass(frozen=True)
class AllowlistEntry:
    """One `host` or `host:port` glob of K8OR_SITE_ALLOWLIST."""

    host: str
    port: str = ""  # a glob; empty: the scheme's default port

    @property
    def explicit(self) -> bool:
        """True when the entry names one host exactly: the operator vouches for that host."""
        return not GLOB_CHARS & set(self.host)

    def matches(self, scheme: str, host: str, port: int) -> bool:
        """True when a site with this scheme, host and port is covered by the entry."""
        port_ok = fnmatchcase(str(port), self.port) if self.port else port == DEFAULT_PORTS[scheme]
        return port_ok and fnmatchcase(host, self.host)


def parse_entry(text: str) -> AllowlistEntry:
    """An allowlist entry from `host`, `host:port` or `[v6]:port`; ValueError naming the setting."""
    raw = text.strip().lower()
    if raw.startswith("["):
        host, _, rest = raw[1:].partition("]")
        port = rest.removeprefix(":") if rest.startswith(":") else rest
        valid = _is_ip(host) and (not port or bool(PORT_GLOB.fullmatch(port)))
    else:
        host, _, port = raw.partition(":")
        valid = bool(HOST_GLOB.fullmatch(host)) and (not port or bool(PORT_GLOB.fullmatch(port)))
    if not valid:
        raise ValueError(
            f"{SETTING}: {text.strip()!r} is not a host or host:port glob; "
            "write for example *.atlassian.net,jira.corp.example.com:8443"
        )
    return AllowlistEntry(host, port)


class SiteGuard:
    """Decides which typed sites k8or may contact (see the module docstring for the rules)."""

    def __init__(self, entries: Iterable[AllowlistEntry] = (), resolver: Resolver | None = None) -> None:
        self.entries = tuple(entries)
        self._resolver = resolver

    @classmethod
    def from_setting(cls, value: str) -> SiteGuard:
        """The guard for a K8OR_SITE_ALLOWLIST value; ValueError names the setting and the fix."""
        return cls(parse_entry(part) for part in value.split(",") if part.strip())

    def site(self, url: str, operator_sites: Iterable[str] = ()) -> Site:
        """The normalised site for a typed URL, checked against the allowlist; no DNS yet."""
        scheme, host, port, path = _split(url)
        if any(_origin(trusted) == (scheme, host, port) for trusted in operator_sites if trusted):
            return Site(scheme, host, port, path, listed=True)
        entry = next((e for e in self.entries if e.matches(scheme, host, port)), None)
        if self.entries and entry is None:
            raise SiteNotAllowed()
        explicit = entry is not None and entry.explicit
        if scheme != "https" and not explicit:
            raise SiteNotAllowed()
        return Site(scheme, host, port, path if explicit else "", listed=entry is not None)

    def check_addresses(self, site: Site) -> None:
        """Resolve the site's host and refuse it unless every address is one it may use."""
        resolve = self._resolver or socket.getaddrinfo
        try:
            found = resolve(site.host, site.port, 0, socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise SiteNotAllowed() from None
        if not found or not all(site.allows(str(info[4][0])) for info in found):
            raise SiteNotAllowed()


def address_allowed(address: str, *, listed: bool) -> bool:
    """True when k8or may connect to this IP: public only, or any but the never-ranges when listed."""
    try:
        ip = _unwrapped(ipaddress.ip_address(address.split("%", 1)[0]))
    except ValueError:
        return False
    never = (
        ip in METADATA
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or any(ip in network for network in NEVER_NETWORKS if ip.version == network.version)
    )
    if never:
        return False
    if listed:
        return True
    private = ip.is_private or ip.is_loopback or ip.is_reserved or (ip.version == 4 and ip in CGNAT)
    return ip.is_global and not private


def _unwrapped(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), else the address itself."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def _split(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and normalised context path of a typed URL; SiteNotAllowed if malformed."""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname or "", parts.port
    except ValueError:
        raise SiteNotAllowed() from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or parts.username is not None or parts.password is not None:
        raise SiteNotAllowed()
    if not (HOST_NAME.fullmatch(host) or _is_ip(host)):
        raise SiteNotAllowed()
    return scheme, host, port or DEFAULT_PORTS[scheme], _context_path(parts.path)


def _context_path(path: str) -> str:
    """`/jira` from `/jira/`; refuses dot segments and escapes, which could walk out of the site."""
    segments = [segment for segment in path.split("/") if segment]
    if not all(PATH_SEGMENT.fullmatch(s) and s not in (".", "..") for s in segments):
        raise SiteNotAllowed()
    return "".join(f"/{segment}" for segment in segments)


def _origin(url: str) -> tuple[str, str, int]:
    try:
        scheme, host, port, _path = _split(url)
    except SiteNotAllowed:
        return ("", "", 0)
    return scheme, host, port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True

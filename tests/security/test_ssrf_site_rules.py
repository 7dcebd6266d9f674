"""Attack 4, the rules behind the guard: which typed sites and which addresses k8or may contact.

The HTTP-level attacks are in test_ssrf_jira_site.py; these pin down each rule on its own so a
change to one (a new address range, the allowlist syntax) fails here with a readable name.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from connectors.sites import SiteGuard, SiteNotAllowed, address_allowed


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",  # CGNAT
        "169.254.169.254",  # cloud metadata
        "fd00:ec2::254",  # AWS metadata over IPv6
        "fe80::1%eth0",
        "224.0.0.1",
        "0.0.0.0",
        "::",
        "240.0.0.1",  # reserved
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "2002:7f00:1::",  # 6to4 wrapping 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 wrapping 10.0.0.1
        "not-an-address",
    ],
)
def test_default_deny_refuses_non_public_addresses(address: str) -> None:
    assert not address_allowed(address, listed=False)


@pytest.mark.parametrize("address", ["8.8.8.8", "104.192.141.1", "2606:4700:4700::1111"])
def test_default_allows_public_addresses(address: str) -> None:
    assert address_allowed(address, listed=False)


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "fe80::1", "224.0.0.1", "0.0.0.0"])
def test_listed_sites_never_reach_metadata_link_local_or_unspecified(address: str) -> None:
    assert not address_allowed(address, listed=True)


def test_listed_sites_may_be_private() -> None:
    """A corporate Jira the operator named lives on the private network."""
    assert address_allowed("10.20.30.40", listed=True) and address_allowed("127.0.0.1", listed=True)


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("https://team.atlassian.net/browse/PROJ-1?focused=1#c", "https://team.atlassian.net"),
        ("https://TEAM.atlassian.net:443/", "https://team.atlassian.net"),
        ("https://jira.example.org:8443/x", "https://jira.example.org:8443"),
    ],
)
def test_empty_allowlist_keeps_the_origin_of_public_https_sites(typed: str, normalised: str) -> None:
    assert SiteGuard().site(typed).url == normalised


@pytest.mark.parametrize(
    "typed",
    [
        "http://team.atlassian.net",  # https only unless the operator names the host
        "ftp://team.atlassian.net",
        "https://user:pw@team.atlassian.net",
        "https://team.atlassian.net:99999",
        "https:///no-host",
        "https://team atlassian.net",
        "javascript:alert(1)",
    ],
)
def test_malformed_or_plain_http_sites_are_refused(typed: str) -> None:
    with pytest.raises(SiteNotAllowed):
        SiteGuard().site(typed)


def test_allowlist_globs_ports_and_explicit_hosts() -> None:
    guard = SiteGuard.from_setting(" *.atlassian.net , jira.corp.example.com:8443,[::1]:*")
    assert guard.site("https://acme.atlassian.net/jira?x").url == "https://acme.atlassian.net"
    named = guard.site("http://jira.corp.example.com:8443/jira/?q=1#f")
    assert named.url == "http://jira.corp.example.com:8443/jira" and named.listed
    for typed in (
        "http://acme.atlassian.net",  # a wildcard entry admits https only
        "https://atlassian.net",
        "https://acme.atlassian.net:8443",  # no port in the entry: the default port only
        "https://jira.corp.example.com",
        "https://jira.corp.example.com:8443/../admin",
        "https://evil.example",
    ):
        with pytest.raises(SiteNotAllowed):
            guard.site(typed)


@pytest.mark.parametrize("value", ["https://x.atlassian.net", "a/b", "host:port", "[not-ip]:1"])
def test_bad_allowlist_names_the_setting(value: str) -> None:
    with pytest.raises(ValueError, match="K8OR_SITE_ALLOWLIST"):
        SiteGuard.from_setting(value)


def test_operator_default_site_stays_trusted() -> None:
    site = SiteGuard().site("http://jira.internal:8080/jira", operator_sites=("http://jira.internal:8080",))
    assert site.listed and site.url == "http://jira.internal:8080/jira"


def test_any_private_answer_refuses_the_name() -> None:
    """A resolver returning a public and a private address gets the name refused outright."""

    def resolver(host: str, port: int, *_args: Any) -> list[tuple[Any, ...]]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("104.192.141.1", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    guard = SiteGuard(resolver=resolver)
    with pytest.raises(SiteNotAllowed):
        guard.check_addresses(guard.site("https://mixed.example"))

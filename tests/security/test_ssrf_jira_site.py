"""Attack 4: SSRF through the person-typed Jira site, on the sign-in page and in `auth status`.

Anyone may `login jira` and type any site. Before the guard, `http://127.0.0.1:PORT/admin/secret?x=1#`
made k8or call its own admin endpoint, follow redirects, echo the answer ("Signed in as …"), and
answer differently for open and closed ports. Each test here types or stores such a site, drives
the real page or the real turn over HTTP, and asserts the one refusal message, that the internal
endpoint saw no request (or only the request a named site allows), and that nothing was stored.
"""

from __future__ import annotations

import dataclasses
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer

import dialogs.auth
from bot.signin import SIGNIN_PREFIX
from bot.signin.components import SignIn
from bot.signin.extension import signin_parts
from connectors import messages
from connectors.base import ConnectorRegistry, Credentials
from connectors.vault import CREDENTIALS
from testing.chat.turns import TurnHarness
from testing.services.internal import (
    InternalState,
    create_admin_app,
    create_redirecting_app,
    listen_raw,
)

LINK = re.compile(r"https?://\S+/signin/[A-Za-z0-9_-]+")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
REFUSAL = messages.SITE_REFUSED.format(service="Jira")
REBOUND = "jira.rebind.example"


@dataclass
class Chat:
    """k8or's turns and sign-in pages, wired from Settings as `serve` wires them."""

    bot: TurnHarness
    signin: SignIn
    pages_url: str
    told: list[tuple[str, str]]

    async def link(self, user: str) -> str:
        [reply] = await self.bot.say("login jira", user=user)
        return LINK.search(reply).group(0)  # type: ignore[union-attr]

    async def person(self, user: str) -> str:
        link = await self.signin.links.find((await self.link(user)).rsplit("/", 1)[1])
        assert link is not None
        return link.person

    async def type_site(self, user: str, site: str) -> tuple[int, str]:
        """Open a `login jira` link and submit the Cloud form with this site; the page's status and text."""
        url = await self.link(user)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            async with browser.get(url) as page:
                csrf = CSRF.search(await page.text()).group(1)  # type: ignore[union-attr]
            form = {"csrf": csrf, "site": site, "email": "mallory@example.com", "api_token": "ATATT3x-guess"}
            async with browser.post(f"{url}/cloud", data=form) as response:
                return response.status, await response.text()

    async def stored_rows(self) -> int:
        """Credentials rows in the vault, for anyone."""
        async with self.bot.services.db.begin() as connection:
            count = sa.select(sa.func.count()).select_from(CREDENTIALS)
            return int((await connection.execute(count)).scalar_one())


@asynccontextmanager
async def open_chat(tmp_path: Path, allowlist: str) -> AsyncIterator[Chat]:
    """The auth commands and the sign-in pages, with K8OR_SITE_ALLOWLIST set to `allowlist`."""
    async with TurnHarness.open(tmp_path, [dialogs.auth.commands], site_allowlist=allowlist) as bot:
        listening = socket.create_server(("127.0.0.1", 0))  # the pages' own URL is their public URL
        public_url = f"http://127.0.0.1:{listening.getsockname()[1]}"
        settings = dataclasses.replace(bot.services.settings, public_url=public_url)
        told: list[tuple[str, str]] = []

        async def notify(person: str, text: str) -> None:
            told.append((person, text))

        registry = ConnectorRegistry.from_entry_points(settings, only=["jira"])
        pages, extension = signin_parts(settings, notify=lambda _app, _services: notify, registry=registry)
        root = web.Application()
        root.add_subapp(SIGNIN_PREFIX, pages)
        runner = web.AppRunner(root)
        await runner.setup()
        await web.SockSite(runner, listening).start()
        started = extension(root, bot.services)
        await anext(started)
        try:
            yield Chat(bot, bot.services.signin, public_url, told)
        finally:
            await started.aclose()
            await runner.cleanup()


@pytest.fixture
async def internal() -> AsyncIterator[tuple[InternalState, int]]:
    """The admin endpoint an attacker aims at, on 127.0.0.1; its state and port."""
    state = InternalState()
    server = TestServer(create_admin_app(state), host="127.0.0.1", port=0)
    await server.start_server()
    yield state, server.port  # type: ignore[misc]
    await server.close()


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail any test here that makes a connection leave this machine; record every destination."""
    destinations: list[Any] = []
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        destinations.append(address)
        host = address[0] if isinstance(address, tuple) else ""
        assert not host or host in ("127.0.0.1", "::1"), f"a test connected to {host}"
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return destinations


def refused(status: int, page: str) -> bool:
    """The page refused the site with the one message, before any code step."""
    return status == 400 and REFUSAL in page and 'id="signin-code"' not in page


@pytest.mark.parametrize(
    "typed",
    [
        "http://127.0.0.1:{port}/admin/secret?x=1#",
        "https://127.0.0.1:{port}/admin/secret",
        "https://10.1.2.3/",
        "https://169.254.169.254/latest/meta-data/iam/",
        "https://[::1]:{port}/",
        "https://localhost:{port}/admin/secret",
        "https://2130706433:{port}/",  # 127.0.0.1 written as one number
        "https://[fd00:ec2::254]/",
        "https://mallory:pw@team.atlassian.net/",
        "file:///etc/passwd",
    ],
)
async def test_default_deny_refuses_private_sites(
    tmp_path: Path, internal: tuple[InternalState, int], loopback_only: list[Any], typed: str
) -> None:
    state, port = internal
    async with open_chat(tmp_path, allowlist="") as chat:
        status, page = await chat.type_site("mallory", typed.format(port=port))
        assert refused(status, page), page
        assert "SECRET" not in page and "Signed in" not in page
        assert await chat.stored_rows() == 0
        assert chat.told and REFUSAL in chat.told[0][1]
    assert state.requests == []
    assert not [address for address in loopback_only if address[1] == port]  # not even a TCP connection


async def test_allowlist_refuses_hosts_it_does_not_name(
    tmp_path: Path, internal: tuple[InternalState, int]
) -> None:
    state, port = internal
    async with open_chat(tmp_path, allowlist=f"*.atlassian.net,127.0.0.1:{port + 1}") as chat:
        status, page = await chat.type_site("mallory", f"http://127.0.0.1:{port}/admin/secret?x=1#")
        assert refused(status, page)
        assert await chat.stored_rows() == 0
    assert state.requests == []


async def test_refusals_and_closed_ports_read_alike(tmp_path: Path) -> None:
    """A listed port with nothing behind it says exactly what a forbidden host says: no port scanning."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]  # bound, never listening: connections are refused
    async with open_chat(tmp_path, allowlist=f"127.0.0.1:{port}") as chat:
        pages = [
            await chat.type_site("mallory", site) for site in (f"http://127.0.0.1:{port}", "https://10.9.9.9")
        ]
    closed.close()
    errors = [re.search(r"k8or will not use[^<]*", page).group(0) for _status, page in pages]  # type: ignore[union-attr]
    assert [status for status, _page in pages] == [400, 400] and errors[0] == errors[1]


async def test_named_site_keeps_only_its_root_and_context_path(
    tmp_path: Path, internal: tuple[InternalState, int]
) -> None:
    """An operator-named host is contacted, but the typed query and fragment never reach it."""
    state, port = internal
    async with open_chat(tmp_path, allowlist=f"127.0.0.1:{port}") as chat:
        status, page = await chat.type_site("mallory", f"http://127.0.0.1:{port}/admin/secret?x=1#frag")
        assert refused(status, page) and "SECRET" not in page
        assert await chat.stored_rows() == 0
    assert state.requests == ["/admin/secret/rest/api/2/myself"]


async def test_auth_status_does_not_repeat_a_stored_attack(
    tmp_path: Path, internal: tuple[InternalState, int]
) -> None:
    """Credentials stored before the guard existed: `auth status` refuses them without a request."""
    state, port = internal
    async with open_chat(tmp_path, allowlist="") as chat:
        person = await chat.person("mallory")
        stored = Credentials(site=f"http://127.0.0.1:{port}/admin/secret?x=1#", email="m@x.io", api_token="t")
        await chat.signin.vault.put(person, "jira", stored)
        [status] = await chat.bot.say("auth status", user="mallory")
    assert f"| Jira | ✗ | {REFUSAL} |" in status
    assert "SECRET" not in status and "internal-only" not in status
    assert state.requests == []


async def test_dns_rebinding_is_caught_at_connection_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loopback_only: list[Any]
) -> None:
    """The name is public when checked and loopback when connected: no connection is made."""
    state = InternalState()
    listener, port = await listen_raw(state)
    lookups: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != REBOUND:
            return real_getaddrinfo(host, *args, **kwargs)
        lookups.append(host)
        address = "93.184.216.34" if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    async with open_chat(tmp_path, allowlist="") as chat:
        person = await chat.person("mallory")
        await chat.signin.vault.put(
            person, "jira", Credentials(site=f"https://{REBOUND}:{port}", email="m@x.io", api_token="t")
        )
        [status] = await chat.bot.say("auth status", user="mallory")
    listener.close()
    await listener.wait_closed()
    assert f"| Jira | ✗ | {REFUSAL} |" in status
    assert len(lookups) >= 2  # the first answer passed; the second was checked, and refused
    assert state.connections == 0
    assert ("127.0.0.1", port) not in loopback_only


async def test_redirect_to_another_host_is_not_followed(
    tmp_path: Path, internal: tuple[InternalState, int]
) -> None:
    """Even with both hosts allowed, a redirect off the typed site is refused, not followed."""
    state, admin_port = internal
    bouncer = TestServer(
        create_redirecting_app(f"http://127.0.0.1:{admin_port}/admin/secret"), host="127.0.0.1", port=0
    )
    await bouncer.start_server()
    allowlist = f"127.0.0.1:{bouncer.port},127.0.0.1:{admin_port}"
    async with open_chat(tmp_path, allowlist=allowlist) as chat:
        status, page = await chat.type_site("mallory", f"http://127.0.0.1:{bouncer.port}")
        assert refused(status, page) and "SECRET" not in page
        assert await chat.stored_rows() == 0
    await bouncer.close()
    assert state.requests == []

"""The sign-in pages, driven over HTTP the way a browser without JavaScript submits them."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.fernet import Fernet

from bot.db import Database
from bot.signin import SIGNIN_PREFIX, SignInLinkStore, create_signin_app, link_url, redact
from bot.signin.components import SignIn
from bot.signin.pending import PendingSignIns, Redeemed
from bot.signin.service import SLOT
from connectors.base import ConnectorRegistry
from connectors.vault import CredentialVault, parse_keys
from testing.services.wiring import Harness


def k8or_logs(caplog: pytest.LogCaptureFixture) -> str:
    """Log text from k8or's side only: the fake services' own access logs are not k8or's."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("aiohttp.access"))


CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CODE = re.compile(r'id="signin-code">([0-9]{6})<')


def shown_code(page: str) -> str:
    """The one-time code a page shows after the credentials verified."""
    return CODE.search(page).group(1)  # type: ignore[union-attr]


@dataclasses.dataclass
class SignInSite:
    url: str
    vault: CredentialVault
    links: SignInLinkStore
    told: list[tuple[str, str]]
    harness: Harness
    signin: SignIn

    async def link(self, person: str = "aad:alice") -> str:
        issued = await self.links.issue(person, self.harness.name, "Alice Liddell, Teams")
        return link_url(self.url, issued.token)

    async def type_code(self, page: str, person: str = "aad:alice") -> None:
        """What `login code` does when the link's owner types the page's code in chat."""
        assert isinstance(await self.signin.redeem_code(person, shown_code(page)), Redeemed)


@pytest.fixture
async def site(harness_for, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[SignInSite]:  # type: ignore[no-untyped-def]
    harness = await harness_for(getattr(request, "param", "toggl"))
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'signin.db'}")
    await db.upgrade()
    keys = parse_keys(Fernet.generate_key().decode(), "test")
    vault, links, pending = (
        CredentialVault(db, keys),
        SignInLinkStore(db),
        PendingSignIns(db, keys),
    )
    told: list[tuple[str, str]] = []

    async def notify(person: str, text: str) -> None:
        told.append((person, text))

    signin = create_signin_app(
        registry=ConnectorRegistry([harness.connector]),
        vault=vault,
        links=links,
        pending=pending,
        notify=notify,
        public_url="http://placeholder",
        poll_floor=0.02,
    )
    root = web.Application()
    root.add_subapp(SIGNIN_PREFIX, signin)
    server = TestServer(root, host="127.0.0.1", port=0)
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    signin[SLOT].service.public_url = url  # type: ignore[union-attr]  # the port is known only once the server listens
    registry = ConnectorRegistry([harness.connector])
    yield SignInSite(url, vault, links, told, harness, SignIn(registry, vault, links, url, pending=pending))
    await server.close()
    await db.dispose()


def browser() -> aiohttp.ClientSession:
    # unsafe=True: keep cookies for an IP-address host, as a browser does for localhost.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def open_form(session: aiohttp.ClientSession, url: str) -> tuple[str, str]:
    async with session.get(url) as response:
        assert response.status == 200
        page = await response.text()
    assert "<script" not in page
    assert response.headers["Referrer-Policy"] == "no-referrer"
    return page, CSRF.search(page).group(1)  # type: ignore[union-attr]


async def test_token_form_signs_in_once_the_owner_types_the_code(
    site: SignInSite, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = site.harness.credentials["api_token"]
    link = await site.link()
    async with browser() as session:
        form_page, csrf = await open_form(session, link)
        assert "Signing in to Toggl Track for Alice Liddell, Teams." in form_page
        async with session.post(f"{link}/token", data={"csrf": csrf, "api_token": token}) as response:
            assert response.status == 200
            page = await response.text()
        assert "Ada Lovelace" in page and token not in page
        async with session.get(link) as again:
            assert again.status == 410  # one-time
    [(person, waiting)] = site.told
    assert person == "aad:alice" and "type the 6-digit code" in waiting
    assert shown_code(page) not in waiting and "Ada Lovelace" not in waiting
    assert await site.vault.get("aad:alice", "toggl") is None  # held until the code is typed
    await site.type_code(page)
    assert (await site.vault.get("aad:alice", "toggl"))["api_token"] == token
    assert await site.vault.list_services("aad:bob") == []
    assert token not in k8or_logs(caplog) and shown_code(page) not in k8or_logs(caplog)


async def test_bad_token_says_why_and_keeps_link(site: SignInSite) -> None:
    link = await site.link()
    async with browser() as session:
        _page, csrf = await open_form(session, link)
        async with session.post(
            f"{link}/token", data={"csrf": csrf, "api_token": "wrong-token-1234"}
        ) as response:
            assert response.status == 400
            page = await response.text()
        assert "rejected your credentials" in page
        assert "wrong-token-1234" not in page
        await open_form(session, link)  # still usable for another try
    assert "Signing in to Toggl Track failed" in site.told[0][1]
    assert await site.vault.get("aad:alice", "toggl") is None


async def test_missing_or_foreign_csrf_is_refused(site: SignInSite) -> None:
    link = await site.link()
    token = site.harness.credentials["api_token"]
    async with browser() as session:
        await open_form(session, link)
        async with session.post(f"{link}/token", data={"api_token": token}) as response:
            assert response.status == 403
        async with session.post(f"{link}/token", data={"csrf": "forged", "api_token": token}) as response:
            assert response.status == 403
    assert await site.vault.get("aad:alice", "toggl") is None


async def test_expired_link_is_refused(site: SignInSite) -> None:
    site.links.ttl = dt.timedelta(seconds=-1)
    link = await site.link()
    async with browser() as session, session.get(link) as response:
        assert response.status == 410
        assert "expired" in await response.text()


@pytest.mark.parametrize("site", ["miro", "google"], indirect=True)
async def test_code_flow_through_consent_screen(site: SignInSite, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    link = await site.link()
    async with browser() as session:
        _page, csrf = await open_form(session, link)
        # The browser follows: k8or 303 → provider consent 302 → k8or callback.
        async with session.post(f"{link}/oauth", data={"csrf": csrf}) as response:
            assert response.status == 200, await response.text()
            assert len(response.history) == 2
            page = await response.text()
            assert "Ada Lovelace" in page and "Alice Liddell, Teams" in page
    assert site.told[0][0] == "aad:alice" and "type the 6-digit code" in site.told[0][1]
    assert await site.vault.get("aad:alice", site.harness.name) is None
    await site.type_code(page)
    stored = await site.vault.get("aad:alice", site.harness.name)
    assert stored is not None and stored["access_token"] not in k8or_logs(caplog)


@pytest.mark.parametrize("site", ["miro"], indirect=True)
async def test_callback_from_another_browser_is_refused(site: SignInSite) -> None:
    link = await site.link()
    async with browser() as alice:
        _page, csrf = await open_form(alice, link)
        async with alice.post(f"{link}/oauth", data={"csrf": csrf}, allow_redirects=False) as response:
            consent = response.headers["Location"]
        async with alice.get(consent, allow_redirects=False) as response:
            callback = response.headers["Location"]
    async with browser() as mallory, mallory.get(callback) as response:
        assert response.status == 400
    assert await site.vault.list_services("aad:alice") == []


@pytest.mark.parametrize("site", ["miro"], indirect=True)
async def test_denied_consent_says_so(site: SignInSite) -> None:
    site.harness.state.deny = True
    link = await site.link()
    async with browser() as session:
        _page, csrf = await open_form(session, link)
        async with session.post(f"{link}/oauth", data={"csrf": csrf}) as response:
            assert response.status == 400
            assert "denied" in await response.text()
    assert "denied" in site.told[0][1]


@pytest.mark.parametrize("site", ["github"], indirect=True)
async def test_device_flow_page_and_background_poll(site: SignInSite) -> None:
    link = await site.link()
    async with browser() as session:
        _page, csrf = await open_form(session, link)
        async with session.post(f"{link}/device", data={"csrf": csrf}) as response:
            assert str(response.url).endswith("/device")
            page = await response.text()
        assert "WDJB-MJHT" in page and '<a href="device">Check now</a>' in page
        [device_code] = site.harness.state.devices
        site.harness.state.devices[device_code] = "approved"
        async with asyncio.timeout(10):  # generous: the suite shares two cores with others
            while not site.told:
                await asyncio.sleep(0.02)
        async with session.get(f"{link}/device") as response:
            page = await response.text()
        assert "GitHub says you are" in page and "The Octocat (octocat)" in page
    assert site.told[0][0] == "aad:alice" and "type the 6-digit code" in site.told[0][1]
    assert await site.vault.list_services("aad:alice") == []
    await site.type_code(page)
    assert await site.vault.list_services("aad:alice") == ["github"]


def test_access_log_redacts_tokens_and_codes() -> None:
    assert redact("/signin/abcDEF123") == "/signin/…"
    assert redact("/signin/abcDEF123/token") == "/signin/…/token"
    assert redact("/signin/callback?state=s3cr3t&code=c0de") == "/signin/callback?state=…&code=…"
    assert redact("/api/messages") == "/api/messages"


@pytest.mark.parametrize("site", ["miro"], indirect=True)
async def test_oauth_state_is_redeemed_once(site: SignInSite) -> None:
    link = await site.link()
    async with browser() as session:
        _page, csrf = await open_form(session, link)
        async with session.post(f"{link}/oauth", data={"csrf": csrf}) as response:
            assert response.status == 200
            callback = str(response.url)
        async with session.get(callback) as replay:
            assert replay.status in (400, 410)  # the state is spent (and its cookie cleared)
    assert len(site.told) == 1

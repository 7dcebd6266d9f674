"""Attack 5, login CSRF: a sign-in link is a bearer URL, so a victim who opens an attacker's link used to
store the victim's credentials in the attacker's slot.

Each test runs whole chat turns (TurnHarness, the real pipeline and `login` commands) and drives the
sign-in pages over real HTTP with aiohttp, against the services' fakes on port 0. Mallory asks k8or
for a link and forwards it; Victor opens it in his browser and signs in with his own account. Now
nothing is stored until the link's owner types the one-time code that only Victor's page shows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.fernet import Fernet

import dialogs.auth
from bot.signin import SIGNIN_PREFIX, SignInLinkStore, create_signin_app
from bot.signin.components import SignIn
from bot.signin.pending import PendingSignIns
from bot.signin.service import SLOT
from connectors.base import ConnectorRegistry
from connectors.vault import CredentialVault, parse_keys
from testing.chat.turns import TurnHarness
from testing.services.wiring import Harness, build, close

LINK = re.compile(r"https?://\S+/signin/[A-Za-z0-9_-]+")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CODE = re.compile(r'id="signin-code">([0-9]{6})<')
NOTHING_WAITING = "No sign-in is waiting for a code from you"


class Clock:
    """The pending sign-ins' clock, moved forward by the tests (link expiry keeps real time)."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


class World:
    """k8or in chat, its sign-in pages on a real port, and the fakes behind them."""

    def __init__(self, bot: TurnHarness, signin: SignIn, clock: Clock, fakes: dict[str, Harness]):
        self.bot, self.signin, self.clock, self.fakes = bot, signin, clock, fakes
        self.told: list[tuple[str, str]] = []

    async def link(self, user: str, service: str) -> tuple[str, str]:
        """`login <service>` as `user`: the link k8or replied with, and the key it is bound to."""
        [reply] = await self.bot.say(f"login {service}", user=user)
        url = LINK.search(reply).group(0)  # type: ignore[union-attr]
        link = await self.signin.links.find(url.rsplit("/", 1)[1])
        assert link is not None
        return url, link.person

    async def stored(self) -> int:
        """How many credentials the vault holds, for anyone."""
        async with self.bot.services.db.begin() as connection:
            return (
                await connection.execute(sa.select(sa.func.count()).select_from(self.signin.vault.table))
            ).scalar()

    async def pending(self) -> int:
        """How many sign-ins wait for a code."""
        table = self.signin.pending.table  # type: ignore[union-attr]
        async with self.bot.services.db.begin() as connection:
            return (await connection.execute(sa.select(sa.func.count()).select_from(table))).scalar()


def browser() -> aiohttp.ClientSession:
    # unsafe=True: keep cookies for an IP-address host, as a browser does for localhost.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def open_page(session: aiohttp.ClientSession, url: str) -> tuple[str, str]:
    async with session.get(url) as response:
        assert response.status == 200
        page = await response.text()
    return page, CSRF.search(page).group(1)  # type: ignore[union-attr]


async def submit_token(url: str, token: str) -> tuple[str, str]:
    """A browser opens the link and submits a Toggl token: the form page and the answer page."""
    async with browser() as session:
        form, csrf = await open_page(session, url)
        async with session.post(f"{url}/token", data={"csrf": csrf, "api_token": token}) as response:
            assert response.status == 200
            return form, await response.text()


def code_on(page: str) -> str:
    return CODE.search(page).group(1)  # type: ignore[union-attr]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    fakes = {name: await build(name, moto_url="") for name in ("toggl", "miro", "github")}
    clock = Clock()
    async with TurnHarness.open(tmp_path, [dialogs.auth.commands]) as bot:
        db = bot.services.db  # migrated at start, like the app's
        keys = parse_keys(Fernet.generate_key().decode(), "test")
        vault, links = CredentialVault(db, keys), SignInLinkStore(db)
        pending = PendingSignIns(db, keys, clock=clock)
        registry = ConnectorRegistry(harness.connector for harness, _server in fakes.values())
        world = World(bot, SignIn(registry, vault, links, "", pending=pending), clock, {})

        async def notify(person: str, text: str) -> None:
            world.told.append((person, text))

        pages = create_signin_app(
            registry=registry, vault=vault, links=links, pending=pending, notify=notify, public_url="http://x"
        )
        pages[SLOT].service.poll_floor = 0.02  # type: ignore[union-attr]
        root = web.Application()
        root.add_subapp(SIGNIN_PREFIX, pages)
        server = TestServer(root, host="127.0.0.1", port=0)
        await server.start_server()
        world.signin.public_url = pages[SLOT].service.public_url = str(server.make_url("")).rstrip("/")  # type: ignore[union-attr]
        world.fakes = {name: harness for name, (harness, _s) in fakes.items()}
        bot.services.signin = world.signin
        yield world
        await server.close()
    for harness, server in fakes.values():
        await close(harness, server)


async def test_forwarded_link_names_its_owner_and_stores_nothing_by_expiry(
    world: World, tmp_path: Path
) -> None:
    victims_token = world.fakes["toggl"].credentials["api_token"]
    url, mallory = await world.link("mallory", "toggl")
    form, answer = await submit_token(url, victims_token)  # Victor's browser
    assert "Signing in to Toggl Track for Mallory" in form and ", Teams." in form
    assert "Ada Lovelace" in answer and "for Mallory" in answer and code_on(answer)
    [(told_to, waiting)] = world.told  # Mallory hears that someone verified, never the code or the account
    assert told_to == mallory and code_on(answer) not in waiting and "Ada Lovelace" not in waiting
    assert await world.stored() == 0 and await world.pending() == 1
    for path in tmp_path.rglob("*"):  # held sealed, like the vault: the token is in no file
        if path.is_file():
            assert victims_token.encode() not in path.read_bytes(), path
    world.clock.now += dt.timedelta(minutes=5, seconds=1)
    # Even had the code leaked, after five minutes it saves nothing, and the pending sign-in is pruned.
    assert NOTHING_WAITING in (await world.bot.say(code_on(answer), user="mallory"))[0]
    assert await world.stored() == 0 and await world.pending() == 0


async def test_guessed_codes_store_nothing_and_are_limited(world: World) -> None:
    url, _mallory = await world.link("mallory", "toggl")
    _form, answer = await submit_token(url, world.fakes["toggl"].credentials["api_token"])
    real = code_on(answer)
    guesses = [f"{(int(real) + n) % 1_000_000:06d}" for n in range(1, 6)]
    replies = [(await world.bot.say(guess, user="mallory"))[0] for guess in guesses]
    assert [r.split(". ")[-1] for r in replies[:4]] == [f"{n} attempt(s) left." for n in (4, 3, 2, 1)]
    assert "Too many wrong codes" in replies[4] and "Toggl Track" in replies[4]
    assert await world.pending() == 0  # discarded: the right code no longer works either
    assert NOTHING_WAITING in (await world.bot.say(f"login code {real}", user="mallory"))[0]
    assert await world.stored() == 0


async def test_the_victim_typing_the_code_stores_nothing_in_either_slot(world: World) -> None:
    url, mallory = await world.link("mallory", "toggl")
    _form, answer = await submit_token(url, world.fakes["toggl"].credentials["api_token"])
    [reply] = await world.bot.say(code_on(answer), user="victor")  # the code is looked up for Victor
    assert NOTHING_WAITING in reply
    [again] = await world.bot.say(f"login code {code_on(answer)}", user="victor")
    assert NOTHING_WAITING in again
    _url, victor = await world.link("victor", "toggl")
    assert await world.signin.vault.list_services(mallory) == []
    assert await world.signin.vault.list_services(victor) == [] and await world.stored() == 0


async def test_the_owner_typing_the_code_stores_exactly_once(world: World) -> None:
    token = world.fakes["toggl"].credentials["api_token"]
    url, alice = await world.link("alice", "toggl")
    form, answer = await submit_token(url, token)
    assert "Signing in to Toggl Track for Alice" in form
    [reply] = await world.bot.say(f"@k8or {code_on(answer)}", user="alice")
    assert reply == "Signed in to Toggl Track as Ada Lovelace (ada@example.com)."
    assert token not in reply and code_on(answer) not in reply
    assert NOTHING_WAITING in (await world.bot.say(code_on(answer), user="alice"))[0]
    assert await world.stored() == 1 and await world.pending() == 0
    assert (await world.signin.vault.get(alice, "toggl"))["api_token"] == token  # type: ignore[index]


async def test_oauth_consent_on_a_forwarded_link_shows_the_code_only_to_the_victim(world: World) -> None:
    url, mallory = await world.link("mallory", "miro")
    async with browser() as victor:
        form, csrf = await open_page(victor, url)
        assert "Signing in to Miro for Mallory" in form
        async with victor.post(f"{url}/oauth", data={"csrf": csrf}) as response:  # → consent → callback
            assert response.status == 200
            answer = await response.text()
    assert "Ada Lovelace" in answer and code_on(answer) not in world.told[0][1]
    assert await world.stored() == 0
    assert NOTHING_WAITING in (await world.bot.say(code_on(answer), user="victor"))[0]
    assert await world.signin.vault.list_services(mallory) == [] and await world.stored() == 0


async def test_device_flow_code_is_shown_only_to_the_browser_that_started_it(world: World) -> None:
    url, mallory = await world.link("mallory", "github")
    async with browser() as victor:
        _form, csrf = await open_page(victor, url)
        async with victor.post(f"{url}/device", data={"csrf": csrf}) as response:
            page = await response.text()
            assert "WDJB-MJHT" in page
        [device_code] = world.fakes["github"].state.devices
        world.fakes["github"].state.devices[device_code] = "approved"  # Victor approves at GitHub
        async with asyncio.timeout(10):  # generous: the suite shares two cores with others
            while "signin-code" not in page:
                await asyncio.sleep(0.02)
                async with victor.get(f"{url}/device") as response:
                    page = await response.text()
        async with victor.get(f"{url}/device") as response:
            page = await response.text()
    assert "The Octocat (octocat)" in page and "Mallory" in page
    async with browser() as mallorys_browser, mallorys_browser.get(f"{url}/device") as response:
        assert response.status == 403  # Mallory holds the link, not Victor's browser
        assert code_on(page) not in await response.text() and "octocat" not in await response.text()
    assert all(code_on(page) not in text for _person, text in world.told)
    assert await world.signin.vault.list_services(mallory) == [] and await world.stored() == 0


@pytest.mark.parametrize("text", ["1234567", "12345", "12 3456", "١٢٣٤٥٦", "123456.", "login code 12345a"])
async def test_only_exactly_six_digits_are_a_code(world: World, text: str) -> None:
    url, _mallory = await world.link("mallory", "toggl")
    await submit_token(url, world.fakes["toggl"].credentials["api_token"])
    [reply] = await world.bot.say(text, user="mallory")
    assert "attempt(s) left" not in reply and "Signed in" not in reply
    assert await world.pending() == 1 and await world.stored() == 0


async def test_the_owner_line_comes_before_any_form_and_is_escaped(world: World) -> None:
    url, _key = await world.link("<b>mallory</b>", "toggl")
    async with browser() as victor:
        form, _csrf = await open_page(victor, url)
    assert "<b>" not in form and "&lt;B&gt;Mallory&lt;/B&gt;" in form
    assert form.index("Signing in to Toggl Track for") < form.index("<form")


async def test_a_second_device_start_cannot_take_over_the_code(world: World) -> None:
    url, mallory = await world.link("mallory", "github")
    async with browser() as victor, browser() as mallorys_browser:
        _form, csrf = await open_page(victor, url)
        async with victor.post(f"{url}/device", data={"csrf": csrf}) as response:
            assert response.status == 200
        # Mallory holds the same link and starts again, hoping to own the status page that shows the code.
        _form, mallorys_csrf = await open_page(mallorys_browser, url)
        async with mallorys_browser.post(f"{url}/device", data={"csrf": mallorys_csrf}) as response:
            assert response.status == 409
        async with mallorys_browser.get(f"{url}/device") as response:
            assert response.status == 403
        async with victor.get(f"{url}/device") as response:
            assert response.status == 200 and "WDJB-MJHT" in await response.text()
    assert len(world.fakes["github"].state.devices) == 1  # the second start never reached GitHub
    assert await world.signin.vault.list_services(mallory) == [] and await world.stored() == 0

"""Whole turns for `login`, `logout` and `auth status`, with the sign-in page in the loop."""

from __future__ import annotations

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

import dialogs.auth
from bot.commands.registry import CommandSet
from bot.signin import SIGNIN_PREFIX, SignInLinkStore, create_signin_app
from bot.signin.components import SignIn
from bot.signin.pending import PendingSignIns
from bot.signin.service import SLOT
from connectors.base import ConnectorRegistry
from connectors.vault import CredentialVault, parse_keys
from testing.chat.turns import TurnHarness
from testing.services.faults import Fault
from testing.services.wiring import Harness, build, close

LINK = re.compile(r"https?://\S+/signin/[A-Za-z0-9_-]+")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CODE = re.compile(r'id="signin-code">([0-9]{6})<')

gated = CommandSet()
ran: list[str] = []


@gated.command("pr open", "Open a pull request.", connectors=("github",))
async def pr_open(ctx, _args) -> str:  # type: ignore[no-untyped-def]
    ran.append(ctx.person.key)
    return "opened"


class Chat:
    """A TurnHarness plus the sign-in page and the fakes behind it."""

    def __init__(
        self, bot: TurnHarness, signin: SignIn, told: list[tuple[str, str]], fakes: dict[str, Harness]
    ):
        self.bot, self.signin, self.told, self.fakes = bot, signin, told, fakes

    async def key(self, user: str) -> str:
        """The key k8or files `user` under (the identity resolver decides it), read off a fresh link."""
        [reply] = await self.bot.say("login toggl", user=user)
        link = await self.signin.links.find(LINK.search(reply).group(0).rsplit("/", 1)[1])  # type: ignore[union-attr]
        assert link is not None
        return link.person

    async def sign_in_with_token(self, user: str, service: str, form: dict[str, str]) -> str:
        """`login`, the page, then the code typed back in chat; the chat's answer to the code."""
        [reply] = await self.bot.say(f"login {service}", user=user)
        url = LINK.search(reply).group(0)  # type: ignore[union-attr]
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as browser:
            async with browser.get(url) as page:
                csrf = CSRF.search(await page.text()).group(1)  # type: ignore[union-attr]
            async with browser.post(f"{url}/token", data={"csrf": csrf, **form}) as response:
                code = CODE.search(await response.text()).group(1)  # type: ignore[union-attr]
        [answer] = await self.bot.say(code, user=user)
        return answer


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Chat]:
    fakes = {name: await build(name, moto_url="") for name in ("toggl", "github")}
    async with TurnHarness.open(tmp_path, [dialogs.auth.commands, gated]) as bot:
        db = bot.services.db  # migrated at start, like the app's
        vault = CredentialVault(db, parse_keys(Fernet.generate_key().decode(), "test"))
        links = SignInLinkStore(db)
        pending = PendingSignIns(db, parse_keys(Fernet.generate_key().decode(), "test"))
        registry = ConnectorRegistry(harness.connector for harness, _server in fakes.values())
        told: list[tuple[str, str]] = []

        async def notify(person: str, text: str) -> None:
            told.append((person, text))

        pages = create_signin_app(
            registry=registry, vault=vault, links=links, pending=pending, notify=notify, public_url="http://x"
        )
        root = web.Application()
        root.add_subapp(SIGNIN_PREFIX, pages)
        server = TestServer(root, host="127.0.0.1", port=0)
        await server.start_server()
        public_url = str(server.make_url("")).rstrip("/")
        pages[SLOT].service.public_url = public_url  # type: ignore[union-attr]
        signin = SignIn(registry, vault, links, public_url, status_timeout=5, pending=pending)
        bot.services.signin = signin
        bot.services.gate = signin.gate()
        yield Chat(bot, signin, told, {name: harness for name, (harness, _s) in fakes.items()})
        await server.close()
    for harness, server in fakes.values():
        await close(harness, server)


async def test_sign_in_then_status_shows_identity(chat: Chat) -> None:
    token = chat.fakes["toggl"].credentials["api_token"]
    answer = await chat.sign_in_with_token("alice", "toggl", {"api_token": token})
    assert answer == "Signed in to Toggl Track as Ada Lovelace (ada@example.com)."
    [(person, waiting)] = chat.told  # the page's outcome in chat: type the code, nothing more
    assert person == await chat.key("alice") and "type the 6-digit code" in waiting
    [status] = await chat.bot.say("auth status", user="alice")
    assert "| Toggl Track | ✓ | Ada Lovelace (ada@example.com) |" in status
    assert "| GitHub | ✗ | You have not signed in to GitHub. |" in status
    assert "`login github` — http" in status
    assert token not in status


async def test_another_person_sees_none_of_it(chat: Chat) -> None:
    await chat.sign_in_with_token(
        "alice", "toggl", {"api_token": chat.fakes["toggl"].credentials["api_token"]}
    )
    [status] = await chat.bot.say("auth status", user="bob")
    assert "✓" not in status and "Ada Lovelace" not in status


async def test_login_link_is_bound_to_the_asker(chat: Chat) -> None:
    [reply] = await chat.bot.say("login github", user="alice")
    token = LINK.search(reply).group(0).rsplit("/", 1)[1]  # type: ignore[union-attr]
    link = await chat.signin.links.find(token)
    assert link is not None and link.service == "github"
    assert link.person == await chat.key("alice") != await chat.key("bob")
    assert "Alice" in link.progress["owner"] and "Teams" in link.progress["owner"]
    assert "expires at" in reply
    lifetime = (link.expires_at - dt.datetime.now(dt.UTC)).total_seconds()
    assert 590 < lifetime <= 600


class FakeDirect:
    """Stands in for the bot's DirectMessages: records what would go to one-to-one chats."""

    def __init__(self, reachable: bool) -> None:
        self.reachable = reachable
        self.sent: list[tuple[str, str]] = []

    async def remember(self, turn: object, person: object) -> None:
        return None

    async def deliver(self, person_key: str, text: str) -> bool:
        if self.reachable:
            self.sent.append((person_key, text))
        return self.reachable


async def test_no_link_in_a_group_without_a_private_channel(chat: Chat) -> None:
    chat.bot.services.direct = FakeDirect(reachable=False)
    [reply] = await chat.bot.say("login github", user="alice", is_group=True)
    assert "/signin/" not in reply and "direct chat" in reply


async def test_group_login_goes_privately(chat: Chat) -> None:
    direct = chat.bot.services.direct = FakeDirect(reachable=True)
    [reply] = await chat.bot.say("login github", user="alice", is_group=True)
    assert "/signin/" not in reply and "private message" in reply
    assert direct.sent[0][0] == await chat.key("alice") and "/signin/" in direct.sent[0][1]


async def test_unknown_service_lists_the_known_ones(chat: Chat) -> None:
    [reply] = await chat.bot.say("login myspace", user="alice")
    assert "myspace" in reply and "github" in reply and "toggl" in reply


async def test_logout_one_and_all(chat: Chat) -> None:
    await chat.sign_in_with_token(
        "alice", "toggl", {"api_token": chat.fakes["toggl"].credentials["api_token"]}
    )
    await chat.sign_in_with_token("alice", "github", {"token": chat.fakes["github"].credentials["token"]})
    assert await chat.bot.say("logout toggl", user="alice") == [
        "Signed out of Toggl Track: your credentials are deleted."
    ]
    assert await chat.bot.say("logout toggl", user="alice") == ["You were not signed in to Toggl Track."]
    assert "1 service" in (await chat.bot.say("logout all", user="alice"))[0]
    assert await chat.signin.vault.list_services(await chat.key("alice")) == []


async def test_gate_names_what_to_sign_in_to_and_does_nothing_else(chat: Chat) -> None:
    ran.clear()
    [reply] = await chat.bot.say("pr open", user="alice")
    assert "GitHub" in reply and "/signin/" in reply
    assert ran == []
    await chat.sign_in_with_token("alice", "github", {"token": chat.fakes["github"].credentials["token"]})
    assert await chat.bot.say("pr open", user="alice") == ["opened"]
    assert ran == [await chat.key("alice")]


async def test_no_secret_in_database_files_or_logs(chat: Chat, tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    secrets = [chat.fakes["toggl"].credentials["api_token"], chat.fakes["github"].credentials["token"]]
    await chat.sign_in_with_token("alice", "toggl", {"api_token": secrets[0]})
    await chat.sign_in_with_token("alice", "github", {"token": secrets[1]})
    [status] = await chat.bot.say("auth status", user="alice")
    assert status.count("✓") == 2
    own_logs = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("aiohttp.access"))
    for secret in secrets:
        assert secret not in own_logs
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path


async def test_a_slow_service_says_wait_rather_than_sign_in_again(chat: Chat) -> None:
    await chat.sign_in_with_token(
        "alice", "toggl", {"api_token": chat.fakes["toggl"].credentials["api_token"]}
    )
    chat.fakes["toggl"].switch.fault = Fault.RATE_LIMITED
    [status] = await chat.bot.say("auth status", user="alice")
    assert "| Toggl Track | ✗ | Toggl Track is rate-limiting requests (HTTP 429). |" in status
    assert "Try again in 7 s." in status

"""The sign-in pages in headless Chromium, the way a person uses them.

`login <service>` in chat, the link from the reply opened in the browser, the form filled in by its
labels and submitted (cookies, redirects and the CSRF field handled by the browser), the one-time code
read off the page and typed back in chat. Every page on the way is checked with axe-core (no serious
or critical violation: labels, contrast, language, headings) and saved as a screenshot under the
test's tmp_path; its text is asserted from the DOM.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.fernet import Fernet
from PIL import Image

import dialogs.auth
from bot.signin import SIGNIN_PREFIX, SignInLinkStore, create_signin_app, pages
from bot.signin.components import SignIn
from bot.signin.links import SignInLink
from bot.signin.pending import PendingSignIns
from bot.signin.service import SLOT
from connectors.base import ConnectorRegistry, TokenFields
from connectors.vault import CredentialVault, parse_keys
from testing.chat.turns import TurnHarness
from testing.services.wiring import Harness, build, close, identity_center, start_moto
from tests.browser.conftest import AXE, npm_file

SERVICES = ("dockerhub", "github", "google", "jira", "miro", "toggl")
LINK = re.compile(r"https?://\S+/signin/[A-Za-z0-9_-]+")
SIX_DIGITS = re.compile(r"[0-9]{6}")
# axe's result, reduced to what a failure message needs; impacts below "serious" are advice.
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}"""


@dataclasses.dataclass
class Site:
    """k8or's chat and sign-in pages, the fake providers behind them, and a browser on its way."""

    bot: TurnHarness
    signin: SignIn
    fakes: dict[str, Harness]
    chromium: Any
    shots: Path
    told: asyncio.Queue[tuple[str, str]]  # what k8or said in chat on its own (the pages' outcomes)

    async def login(self, service: str, user: str = "alice") -> tuple[str, SignInLink]:
        """Ask k8or for a link in chat, as `user` does; the link from the reply and its record."""
        [reply] = await self.bot.say(f"login {service}", user=user)
        url = LINK.search(reply).group(0)  # type: ignore[union-attr]
        link = await self.signin.links.find(url.rsplit("/", 1)[1])
        assert link is not None
        return url, link

    async def browse(self) -> Any:
        """A fresh browser profile (its own cookies), with one page open."""
        context = await self.chromium.new_context(viewport={"width": 800, "height": 700})
        return await context.new_page()

    async def check(self, page: Any, name: str) -> str:
        """The page passes axe, is saved as `<name>.png`, and its visible text is returned."""
        await page.evaluate(npm_file(AXE).read_text())  # evaluated, not a <script>: the CSP stays on
        assert await page.evaluate(AXE_RUN) == [], f"accessibility violations on the {name} page"
        shot = self.shots / f"{name}.png"
        await page.screenshot(path=str(shot), full_page=True)
        picture = Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")
        assert picture.width >= 300 and len(set(picture.getdata())) > 2, "the screenshot is blank"
        return str(await page.locator("body").inner_text())

    async def type_code(self, code: str, user: str = "alice") -> str:
        [answer] = await self.bot.say(code, user=user)
        return answer


@contextlib.asynccontextmanager
async def open_site(
    tmp_path: Path, chromium: Any, names: tuple[str, ...], moto_url: str = ""
) -> AsyncIterator[Site]:
    """k8or's chat and sign-in pages over the fakes of `names` (AWS needs moto_url: STS is moto)."""
    fakes = {name: await build(name, moto_url=moto_url) for name in names}
    async with TurnHarness.open(tmp_path, [dialogs.auth.commands]) as bot:
        db = bot.services.db
        keys = parse_keys(Fernet.generate_key().decode(), "test")
        vault, links, pending = CredentialVault(db, keys), SignInLinkStore(db), PendingSignIns(db, keys)
        registry = ConnectorRegistry(harness.connector for harness, _server in fakes.values())

        told: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

        async def notify(person: str, text: str) -> None:
            told.put_nowait((person, text))

        app = create_signin_app(
            registry=registry,
            vault=vault,
            links=links,
            pending=pending,
            notify=notify,
            public_url="http://x",
            poll_floor=0.02,
        )
        root = web.Application()
        root.add_subapp(SIGNIN_PREFIX, app)
        server = TestServer(root, host="127.0.0.1", port=0)
        await server.start_server()
        public_url = str(server.make_url("")).rstrip("/")
        app[SLOT].service.public_url = public_url  # type: ignore[union-attr]  # known once it listens
        signin = SignIn(registry, vault, links, public_url, status_timeout=5, pending=pending)
        bot.services.signin, bot.services.gate = signin, signin.gate()
        yield Site(bot, signin, {name: h for name, (h, _s) in fakes.items()}, chromium, tmp_path, told)
        await server.close()
    for harness, fake in fakes.values():
        await close(harness, fake)


@pytest.fixture
async def site(tmp_path: Path, chromium: Any) -> AsyncIterator[Site]:
    async with open_site(tmp_path, chromium, SERVICES) as opened:
        yield opened


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server, url = start_moto()
    yield url
    server.stop()


@pytest.fixture
async def aws_site(tmp_path: Path, chromium: Any, moto_url: str) -> AsyncIterator[Site]:
    """The same, with AWS signing in through IAM Identity Center: its role credentials are a role
    moto really issued, so the sign-in ends with STS saying who they are."""
    async with open_site(tmp_path, chromium, ("aws",), moto_url) as opened:
        identity_center(opened.fakes["aws"], moto_url, "alice")
        yield opened


def section(page: Any, heading: str) -> Any:
    """The part of the sign-in page for one way of signing in, found by its heading."""
    return page.locator("section").filter(has=page.get_by_role("heading", name=heading, exact=True))


async def fill_token_form(page: Any, method: TokenFields, values: dict[str, str]) -> None:
    """Type each field's value into the input its label names (a field without a label is not found)."""
    form = section(page, method.label)
    for spec in method.fields:
        await form.get_by_label(spec.label, exact=True).fill(values[spec.name])


def token_method(harness: Harness, key: str = "") -> TokenFields:
    """The token form called `key`, or the first one."""
    methods = [m for m in harness.connector.sign_in_methods() if isinstance(m, TokenFields)]
    return next(m for m in methods if m.key == key or not key)


def form_values(harness: Harness, method: TokenFields) -> dict[str, str]:
    """Valid values for every field of `method`, from the fake (Jira Server's is a personal access token)."""
    if method.key == "server":
        return {"site": harness.url, "pat": harness.state.issue_server_token()}
    return dict(harness.credentials)


async def shown_code(page: Any) -> str:
    code = str(await page.locator("#signin-code").inner_text())
    assert SIX_DIGITS.fullmatch(code), code
    return code


@pytest.mark.parametrize(
    ("service", "key"),
    [("jira", "cloud"), ("jira", "server"), ("toggl", ""), ("dockerhub", ""), ("github", "token")],
)
async def test_token_form_shows_a_code_that_saves_the_credentials(site: Site, service: str, key: str) -> None:
    harness = site.fakes[service]
    name, method = harness.connector.display_name, token_method(harness, key)
    values = form_values(harness, method)
    url, link = await site.login(service)
    page = await site.browse()
    assert (await page.goto(url)).status == 200
    text = await site.check(page, f"{service}-form")
    assert await page.locator("h1").inner_text() == f"Sign in to {name}"
    assert f"Signing in to {name} for Alice" in text and method.label in text
    await fill_token_form(page, method, values)
    await section(page, method.label).get_by_role("button", name="Check with the service").click()
    text = await site.check(page, f"{service}-{key or 'token'}-code")
    assert await page.locator("h1").inner_text() == f"Almost signed in to {name}"
    assert f"{name} says you are" in text and "type this code to k8or" in text
    assert not any(secret in text for secret in values.values() if len(secret) > 20)
    assert await site.signin.vault.get(link.person, service) is None  # nothing saved before the code
    assert (await site.type_code(await shown_code(page))).startswith(f"Signed in to {name} as ")
    stored = await site.signin.vault.get(link.person, service)
    assert stored is not None and all(stored[k] == v for k, v in values.items())


async def test_replayed_link_is_refused_with_the_expired_page(site: Site) -> None:
    harness = site.fakes["toggl"]
    url, link = await site.login("toggl")
    page = await site.browse()
    await page.goto(url)
    await fill_token_form(page, token_method(harness), dict(harness.credentials))
    await page.get_by_role("button", name="Check with the service").click()
    await site.type_code(await shown_code(page))
    assert (await page.goto(url)).status == 410
    text = await site.check(page, "expired")
    assert await page.locator("h1").inner_text() == "Sign-in link expired"
    assert "expired or was already used" in text and "login <service>" in text
    assert await page.locator("kbd").inner_text() == "login <service>"
    assert await site.signin.vault.list_services(link.person) == ["toggl"]


async def test_tampered_csrf_token_is_refused_and_the_link_still_works(site: Site) -> None:
    harness = site.fakes["toggl"]
    url, link = await site.login("toggl")
    page = await site.browse()
    await page.goto(url)
    await fill_token_form(page, token_method(harness), dict(harness.credentials))
    await page.locator('input[name="csrf"]').evaluate("field => { field.value = 'forged' + field.value }")
    async with page.expect_response(lambda r: r.request.method == "POST") as submitted:
        await page.get_by_role("button", name="Check with the service").click()
    assert (await submitted.value).status == 403
    text = await site.check(page, "csrf-refused")
    assert await page.locator("h1").inner_text() == "Please try again"
    assert pages.BAD_FORM in text and not await page.locator("#signin-code").count()
    assert await site.signin.vault.get(link.person, "toggl") is None
    await page.goto(url)  # the refused post used nothing up: the person reloads and signs in
    await fill_token_form(page, token_method(harness), dict(harness.credentials))
    await page.get_by_role("button", name="Check with the service").click()
    assert SIX_DIGITS.fullmatch(await shown_code(page))


async def test_rejected_token_says_why_and_keeps_what_was_typed(site: Site) -> None:
    harness = site.fakes["jira"]
    method = token_method(harness)
    url, _link = await site.login("jira")
    page = await site.browse()
    await page.goto(url)
    await fill_token_form(page, method, {**harness.credentials, "api_token": "wrong-token-1234"})
    await section(page, method.label).get_by_role("button", name="Check with the service").click()
    text = await site.check(page, "jira-rejected")
    assert "rejected your credentials" in await page.locator("p.error").inner_text()
    assert "wrong-token-1234" not in await page.content()
    form = section(page, method.label)
    assert await form.get_by_label("Atlassian account email").input_value() == harness.credentials["email"]
    assert await form.get_by_label("API token", exact=True).input_value() == ""
    assert "Sign in to Jira" in text


@pytest.mark.parametrize(("service", "button"), [("google", "Sign in with Google"), ("miro", None)])
async def test_oauth_code_flow_through_the_providers_consent_and_back(
    site: Site, service: str, button: str | None
) -> None:
    harness = site.fakes[service]
    name = harness.connector.display_name
    url, link = await site.login(service)
    page = await site.browse()
    await page.goto(url)
    text = await site.check(page, f"{service}-form")
    assert f"Signing in to {name} for Alice" in text
    visited: list[str] = []
    page.on("request", lambda request: visited.append(request.url))
    form = section(page, button) if button else page
    await form.get_by_role("button", name="Continue to the sign-in page").click()
    await page.locator("#signin-code").wait_for()
    assert any(u.startswith(harness.url) and "state=" in u for u in visited), visited  # the consent page
    assert page.url.startswith(f"{site.signin.public_url}{SIGNIN_PREFIX}/callback?")
    text = await site.check(page, f"{service}-code")
    assert await page.locator("h1").inner_text() == f"Almost signed in to {name}"
    assert (await site.type_code(await shown_code(page))).startswith(f"Signed in to {name} as ")
    stored = await site.signin.vault.get(link.person, service)
    assert stored is not None and stored["access_token"]
    assert (await page.reload()).status == 400  # the callback again: its state was used up
    text = await site.check(page, f"{service}-callback-replayed")
    assert await page.locator("h1").inner_text() == "Please try again"


@pytest.mark.parametrize(
    ("service", "user_code", "where"),
    [
        ("github", "WDJB-MJHT", "https://github.com/login/device"),
        ("google", "GQVQ-JKEC", "https://www.google.com/device"),
    ],
)
async def test_device_flow_shows_the_code_and_follows_the_approval(
    site: Site, service: str, user_code: str, where: str
) -> None:
    await _device_flow(site, service, user_code, where)


async def test_aws_identity_center_device_flow_ends_with_the_role_sts_names(aws_site: Site) -> None:
    """IAM Identity Center: the device code, AWS's approval, GetRoleCredentials, then STS's word."""
    where = "https://device.sso.us-east-1.amazonaws.com/"
    page = await _device_flow(aws_site, "aws", "KQXB-TTHQ", where)
    assert "assumed-role/AdministratorAccess/alice" in await page.locator("body").inner_text()


async def _device_flow(site: Site, service: str, user_code: str, where: str) -> Any:
    """Get a device code on the page, approve it at the provider, read the code, type it in chat."""
    harness = site.fakes[service]
    name = harness.connector.display_name
    url, link = await site.login(service)
    page = await site.browse()
    await page.goto(url)
    await page.get_by_role("button", name="Get a device code").click()
    text = await site.check(page, f"{service}-device")
    assert page.url == f"{url}/device" and await page.locator("h1").inner_text() == f"Sign in to {name}"
    assert "and enter this code" in text and pages.DEVICE_NEXT in text
    assert not await page.locator('meta[http-equiv="refresh"]').count()
    [device_code] = harness.state.devices
    assert await page.locator("code").inner_text() == user_code
    assert await page.get_by_role("link", name=where).get_attribute("href") == where
    elsewhere = await site.browse()  # the link forwarded: another browser sees no code
    assert (await elsewhere.goto(f"{url}/device")).status == 403
    assert pages.OTHER_BROWSER in await site.check(elsewhere, f"{service}-device-elsewhere")
    harness.state.devices[device_code] = "approved"  # the person approves at the provider
    person, said = await asyncio.wait_for(site.told.get(), 20)  # generous: two shared cores
    assert person == link.person and "type the 6-digit code" in said
    await page.get_by_role("link", name="Check now").click()
    text = await site.check(page, f"{service}-device-code")
    assert f"{name} says you are" in text
    assert await site.signin.vault.get(link.person, service) is None
    assert (await site.type_code(await shown_code(page))).startswith(f"Signed in to {name} as ")
    assert await site.signin.vault.list_services(link.person) == [service]
    return page

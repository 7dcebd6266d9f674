"""`mount_signin` wires the sign-in pages, vault and gate into the real app factory."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.settings import Settings
from bot.signin import SIGNIN_PREFIX
from bot.signin.components import SignIn
from bot.signin.extension import mount_signin, signin_parts
from connectors.base import ConnectorRegistry
from connectors.toggl import TogglConnector
from k8or.app import SERVICES, AppParts, create_app


async def test_pages_vault_and_gate_come_up_with_the_app(aiohttp_client, tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING)
    settings = Settings(data_dir=tmp_path, public_url="https://k8or.example.com")
    pages, extension = signin_parts(settings, registry=ConnectorRegistry([TogglConnector()]))
    app = create_app(settings, AppParts(extensions=[extension]))
    app.add_subapp(SIGNIN_PREFIX, pages)
    client = await aiohttp_client(app)
    services = client.server.app[SERVICES]
    signin = services.signin
    assert isinstance(signin, SignIn) and signin.pending is not None  # the code step is wired
    assert "generated a vault key" in caplog.text  # no K8OR_VAULT_KEY: generated once, with a warning
    url, _expires = await signin.login_link("aad:alice", "toggl")
    assert url.startswith("https://k8or.example.com/signin/")
    page = await client.get("/signin/" + url.rsplit("/", 1)[1])
    assert page.status == 200 and "Sign in to Toggl Track" in await page.text()
    assert (await client.get("/signin/not-a-link")).status == 410
    missing = await services.gate.missing("aad:alice", ("toggl",))
    assert missing[0][:2] == ("toggl", "Toggl Track") and "/signin/" in missing[0][2]


def test_mount_signin_routes_and_registers(tmp_path: Path) -> None:
    from aiohttp import web

    settings = Settings(data_dir=tmp_path)
    app, extensions = web.Application(), []
    mount_signin(app, extensions, settings)
    assert len(extensions) == 1
    assert any(str(r.resource.canonical).startswith("/signin") for r in app.router.routes())

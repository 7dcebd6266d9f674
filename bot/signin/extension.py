"""Wire the sign-in layer into the app: `mount_signin(app, parts, settings)`.

The sign-in pages must be routed before the server starts, while the vault and the link store need
the database engine that opens at start-up. So mounting adds the sub-application now and an
`AppParts` extension that, at start-up, builds the registry, vault and link store, fills the pages'
slot, and puts `SignIn` and its gate into the services.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from bot.signin.app import create_deferred_signin_app
from bot.signin.components import EXTRAS_KEY, SignIn
from bot.signin.links import SignInLinkStore
from bot.signin.service import SIGNIN_PREFIX, Notify, SignInService
from connectors.base import ConnectorRegistry
from connectors.settings import VaultSettings
from connectors.vault import CredentialVault, load_keys

log = logging.getLogger(__name__)
# Given the app and its services at start-up, the coroutine that delivers a chat message to a person.
NotifyFactory = Callable[[web.Application, Any], Notify]


async def _log_only(person: str, text: str) -> None:
    log.info("sign-in outcome for a person (no chat delivery configured)")


def mount_signin(
    app: web.Application,
    extensions: list[Any],
    settings: Any,
    *,
    notify: NotifyFactory | None = None,
    registry: ConnectorRegistry | None = None,
) -> None:
    """Route /signin on `app` and append the start-up extension to `extensions` (AppParts.extensions)."""
    signin_app, slot = create_deferred_signin_app()
    app.add_subapp(SIGNIN_PREFIX, signin_app)

    async def extension(app: web.Application, services: Any) -> AsyncIterator[None]:
        connectors = registry or ConnectorRegistry.from_entry_points(settings)
        keys = load_keys(
            VaultSettings(key=settings.vault_key, key_file=settings.vault_key_file), settings.data_dir
        )
        vault = CredentialVault(services.engine, keys)
        links = SignInLinkStore(services.engine)
        await vault.create_schema()
        await links.create_schema()
        deliver: Notify = notify(app, services) if notify else _log_only
        slot.service = SignInService(connectors, vault, links, deliver, settings.public_url.rstrip("/"))
        signin = SignIn(connectors, vault, links, settings.public_url.rstrip("/"))
        services.extras[EXTRAS_KEY] = signin
        services.gate = signin.gate()
        try:
            yield
        finally:
            await connectors.aclose()

    extensions.append(extension)

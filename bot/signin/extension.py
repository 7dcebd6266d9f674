"""Wire the sign-in layer into the app: `mount_signin(app, extensions, settings)`.

The sign-in pages must be routed before the server starts, while the vault and the link store need
the database that opens at start-up. So mounting adds the sub-application now and an
`AppParts` extension that, at start-up, builds the registry, vault, link store and pending sign-ins,
fills the pages' slot, and puts `SignIn` and its gate into the services.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from bot.signin.app import create_deferred_signin_app
from bot.signin.components import SignIn
from bot.signin.links import SignInLinkStore
from bot.signin.outbox import SignInOutbox, for_terminal
from bot.signin.pending import PendingSignIns
from bot.signin.service import SIGNIN_PREFIX, Notify, SignInService
from connectors.base import ConnectorRegistry
from connectors.settings import VaultSettings
from connectors.vault import CredentialVault, load_keys

if TYPE_CHECKING:
    from bot.services import Services
    from bot.settings import Settings

log = logging.getLogger(__name__)
CONSOLE_CHANNEL = "console"  # bot.console.CHANNEL: the terminal's adapter, present only where it runs
# Given the app and its services at start-up, the coroutine that delivers a chat message to a person.
NotifyFactory = Callable[[web.Application, "Services"], Notify]
Extension = Callable[[web.Application, "Services"], AsyncIterator[None]]


async def _log_only(person: str, text: str) -> None:
    log.info("sign-in outcome for a person (no chat delivery configured)")


def signin_parts(
    settings: Settings, *, notify: NotifyFactory | None = None, registry: ConnectorRegistry | None = None
) -> tuple[web.Application, Extension]:
    """The sign-in sub-application (route it at SIGNIN_PREFIX) and the start-up extension that fills it."""
    signin_app, slot = create_deferred_signin_app()

    async def extension(app: web.Application, services: Services) -> AsyncIterator[None]:
        connectors = registry or ConnectorRegistry.from_entry_points(settings)
        keys = load_keys(
            VaultSettings(key=settings.vault_key, key_file=settings.vault_key_file), settings.data_dir
        )
        vault = CredentialVault(services.db, keys)
        links = SignInLinkStore(services.db)
        pending = PendingSignIns(services.db, keys)  # sealed with the vault's keys
        public_url = settings.public_url.rstrip("/")
        notifier = _notifier(app, services, notify)
        slot.service = SignInService(connectors, vault, links, pending, notifier, public_url)
        signin = SignIn(connectors, vault, links, public_url, pending=pending)
        services.signin = signin
        services.gate = signin.gate()
        try:
            yield
        finally:
            await connectors.aclose()

    return signin_app, extension


def mount_signin(
    app: web.Application,
    extensions: list[Extension],
    settings: Settings,
    *,
    notify: NotifyFactory | None = None,
    registry: ConnectorRegistry | None = None,
) -> None:
    """Route SIGNIN_PREFIX on `app` and append the start-up extension to `extensions`."""
    signin_app, extension = signin_parts(settings, notify=notify, registry=registry)
    app.add_subapp(SIGNIN_PREFIX, signin_app)
    extensions.append(extension)


def _notifier(app: web.Application, services: Services, notify: NotifyFactory | None) -> Notify:
    """How sign-in outcomes reach the person: the given factory, else the bot's direct messages."""
    if notify is not None:
        return notify(app, services)
    direct = services.direct
    if direct is None:
        return _log_only
    outbox = SignInOutbox(services.db)

    async def deliver(person: str, text: str) -> None:
        # A terminal's address is console://local: only the process that runs it can write there.
        # Another process (`k8or serve`, serving the pages for `k8or chat`) leaves it in the outbox.
        if for_terminal(person) and CONSOLE_CHANNEL not in direct.adapters:
            await outbox.put(person, text)
            return
        if not await direct.deliver(person, text):
            log.info("sign-in outcome not delivered: no one-to-one conversation with that person yet")

    return deliver

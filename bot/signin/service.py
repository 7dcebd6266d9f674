"""The sign-in layer's shared state: what every page handler and background flow works with."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.signin.links import SignInLinkStore
from bot.signin.pending import PendingSignIns
from connectors.base import ConnectorRegistry
from connectors.vault import CredentialVault

Notify = Callable[[str, str], Awaitable[None]]
SIGNIN_PREFIX = "/signin"
CSRF_COOKIE = "k8or_csrf"
STATE_COOKIE = "k8or_oauth_state"
DEVICE_COOKIE = "k8or_device"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclasses.dataclass
class SignInService:
    """Everything the sign-in handlers need; one per app."""

    registry: ConnectorRegistry
    vault: CredentialVault
    links: SignInLinkStore
    pending: PendingSignIns
    notify: Notify
    public_url: str
    verify_timeout: float = 10.0
    poll_floor: float = 1.0
    tasks: set[asyncio.Task[None]] = dataclasses.field(default_factory=set)

    @property
    def callback_url(self) -> str:
        return callback_url(self.public_url)

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


@dataclasses.dataclass
class SignInSlot:
    """Where the handlers find their SignInService. The app is mounted before the server starts, but
    the vault and link store need the database, which opens at start-up: they fill the slot then."""

    service: SignInService | None = None


SLOT = web.AppKey("signin_slot", SignInSlot)


def link_url(public_url: str, token: str) -> str:
    """The URL a `login` reply carries for a link token."""
    return f"{public_url.rstrip('/')}{SIGNIN_PREFIX}/{token}"


def callback_url(public_url: str) -> str:
    """The OAuth redirect URI to register with providers."""
    return f"{public_url.rstrip('/')}{SIGNIN_PREFIX}/callback"

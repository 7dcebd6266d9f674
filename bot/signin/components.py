"""What chat commands and the turn pipeline need from the sign-in layer, in one object.

The app puts a `SignIn` in `services.signin`; `dialogs/auth.py` reads it there, and its `gate()` is
the pipeline's `ConnectorGate`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from bot.settings import Settings
from bot.signin.links import SignInLinkStore
from bot.signin.pending import PendingSignIns, Redeemed, Refused
from bot.signin.service import link_url
from connectors.base import Connector, ConnectorRegistry, TokenFields
from connectors.status import DEFAULT_TIMEOUT, ServiceStatus, check_all, missing_services
from connectors.vault import CredentialVault

# How a sign-in page names the channel a link was asked for in.
CHANNEL_LABELS = {
    "msteams": "Teams",
    "slack": "Slack",
    "emulator": "Bot Framework Emulator",
    "webchat": "Web Chat",
    "directline": "Direct Line",
    "console": "k8or chat",
}


def owner_label(person: object) -> str:
    """How a sign-in page names a link's owner: "Ana Lima, Teams".

    A display name the channel did not vouch for (Person.proof is unverified) could be anyone's, so the
    person's channel key follows it: "Ana Lima (webchat:u-81), Web Chat"."""
    key = str(getattr(person, "key", person))
    channel = str(getattr(person, "channel", "") or "")
    name = " ".join(str(getattr(person, "name", "") or "").split())[:80] or key
    if name != key and getattr(person, "proof", "unverified") == "unverified":
        name = f"{name} ({key})"
    where = CHANNEL_LABELS.get(channel, channel)
    return f"{name}, {where}" if where else name


def missing_settings(connector: Connector) -> tuple[str, ...]:
    """The settings this k8or lacks before anyone can sign in to `connector`; () when it can be used.

    A connector that takes a token typed on the page always can; one that signs in only through
    OAuth (Google, Miro) needs its OAuth client, without which its page could only answer 503.
    """
    if any(isinstance(method, TokenFields) for method in connector.sign_in_methods()):
        return ()
    section = connector.settings
    if section is None or not hasattr(section, "client_id") or section.client_id:
        return ()
    names = [name for name in ("client_id", "client_secret") if hasattr(section, name)]
    if connector.name not in {name for name, *_ in Settings.setting_fields()}:
        return tuple(f"{connector.display_name}'s OAuth {name.replace('_', ' ')}" for name in names)
    return tuple(Settings.variable((connector.name, name)) for name in names)


@dataclasses.dataclass
class SignIn:
    """The registry, vault and link store, and the public URL links point at."""

    registry: ConnectorRegistry
    vault: CredentialVault
    links: SignInLinkStore
    public_url: str
    status_timeout: float = DEFAULT_TIMEOUT
    pending: PendingSignIns | None = None

    def connector(self, name: str) -> Connector | None:
        """The connector called `name` (any case), or None."""
        key = name.strip().lower()
        return self.registry.get(key) if key in self.registry else None

    def missing_settings(self, name: str) -> tuple[str, ...]:
        """What this k8or lacks to offer sign-in to service `name`; () when it is offered."""
        connector = self.connector(name)
        return missing_settings(connector) if connector is not None else ()

    def offered(self) -> list[str]:
        """The services people can sign in to here: registered and configured."""
        return sorted(c.name for c in self.registry if not missing_settings(c))

    async def login_link(self, person: str, service: str, owner: str = "") -> tuple[str, dt.datetime]:
        """A fresh one-time sign-in URL for this person and service, and when it expires; `owner` is how
        the page names the person (see `owner_label`)."""
        issued = await self.links.issue(person, service, owner)
        return link_url(self.public_url, issued.token), issued.expires_at

    async def redeem_code(self, person: str, code: str) -> Redeemed | Refused:
        """`login code`: store the pending sign-in of `person` that this code belongs to, exactly once."""
        if self.pending is None:
            return Refused("none")
        outcome = await self.pending.redeem(person, code)
        if isinstance(outcome, Redeemed):
            await self.vault.put(person, outcome.service, outcome.credentials)
        return outcome

    async def status(self, person: str) -> list[ServiceStatus]:
        """`auth status`: every service checked at once for this person."""
        return await check_all(person, self.registry, self.vault, self.status_timeout)

    def gate(self) -> SignInGate:
        """The pipeline's connector gate, backed by this vault."""
        return SignInGate(self)


class SignInGate:
    """Implements `bot.services.ConnectorGate`: which connectors a person still has to sign in to."""

    def __init__(self, signin: SignIn) -> None:
        self._signin = signin

    async def missing(self, person: object, connectors: tuple[str, ...]) -> list[tuple[str, str, str]]:
        """(service, display name, fresh login link) per connector without stored credentials."""
        key = str(getattr(person, "key", person))
        needed = await missing_services(key, connectors, self._signin.vault)
        return [await self._entry(key, owner_label(person), name) for name in needed]

    async def _entry(self, person: str, owner: str, name: str) -> tuple[str, str, str]:
        connector = self._signin.connector(name)
        if connector is None or missing_settings(connector):  # not installed, or not configured here
            return name, connector.display_name if connector else name, ""
        url, _expires = await self._signin.login_link(person, connector.name, owner)
        return connector.name, connector.display_name, url


def service_names(registry: ConnectorRegistry) -> Iterable[str]:
    """Registered service names, for messages that list them."""
    return sorted(registry.names())

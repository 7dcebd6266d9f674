"""The connector contract: how a person signs in to a service, and how k8or verifies who they are.

A connector is a small class per service. It declares its sign-in methods, turns what the person
submitted into `Credentials`, and `verify`s them into an `Identity`. Connectors register in a
`ConnectorRegistry`, normally filled from the entry-point group `k8or.connectors`, so a third-party
package can add a service without changing k8or.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from importlib.metadata import EntryPoint
from typing import ClassVar

from connectors.entry_points import in_group
from connectors.errors import (  # noqa: F401  re-exported: the contract includes its errors
    CredentialsExpired,
    Forbidden,
    InvalidCredentials,
    MalformedResponse,
    NotConfigured,
    NotSignedIn,
    RateLimited,
    ServiceTimeout,
    ServiceUnreachable,
    SignInDenied,
    SignInExpired,
    Unauthorized,
    VerificationError,
)
from connectors.sites import SiteGuard
from typed_env import Section

ENTRY_POINT_GROUP = "k8or.connectors"
log = logging.getLogger(__name__)


class Credentials(Mapping[str, str]):
    """What a person handed k8or for one service: an opaque, read-only mapping of strings.

    Its repr and str never show values, so a stray log line or traceback cannot leak a secret.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str] | None = None, **more: str) -> None:
        merged = {**(values or {}), **more}
        self._values = {str(k): str(v) for k, v in merged.items() if v is not None}

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Credentials(keys={sorted(self._values)})"

    __str__ = __repr__

    def reveal(self) -> dict[str, str]:
        """A plain dict of the values, for the vault to encrypt; do not log it."""
        return dict(self._values)

    def with_values(self, **changes: str) -> Credentials:
        """A copy with some values replaced (e.g. a refreshed access token)."""
        return Credentials({**self._values, **changes})


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who the service says this person is."""

    subject: str
    display_name: str
    scopes: tuple[str, ...] = ()
    expires_at: dt.datetime | None = None
    details: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # Set when verifying renewed the credentials (an OAuth refresh): the caller should store these.
    refreshed: Credentials | None = dataclasses.field(default=None, repr=False, compare=False)

    def describe(self) -> str:
        """A short human label such as `Ada Lovelace (ada)`."""
        if self.display_name and self.display_name != self.subject:
            return f"{self.display_name} ({self.subject})"
        return self.subject


# --- sign-in methods ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SignInMethod:
    """One way of signing in; `key` names it in URLs and in the connector's hooks."""

    key: str
    label: str


@dataclasses.dataclass(frozen=True)
class OAuthAuthorizationCode(SignInMethod):
    """Redirect to the provider's consent screen; the provider calls k8or back with a code."""

    scopes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class OAuthDeviceAuthorization(SignInMethod):
    """Show a user code and a verification URL; k8or polls the provider until the person approves."""

    scopes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """One field of a token form; `secret` fields render as password inputs and are never echoed."""

    name: str
    label: str
    secret: bool = False
    required: bool = True
    help: str = ""
    default: str = ""


@dataclasses.dataclass(frozen=True)
class TokenFields(SignInMethod):
    """A plain HTML form of named fields, e.g. an API token."""

    fields: tuple[FieldSpec, ...] = ()

    def collect(self, form: Mapping[str, str], service: str, display_name: str) -> Credentials:
        """Credentials from submitted form values; raises InvalidCredentials if a required one is empty."""
        values: dict[str, str] = {}
        for spec in self.fields:
            value = (form.get(spec.name) or "").strip() or spec.default
            if spec.required and not value:
                raise InvalidCredentials(service, display_name)
            if value:
                values[spec.name] = value
        return Credentials(values)


@dataclasses.dataclass(frozen=True)
class DeviceAuthorization:
    """A started device authorization: what to show the person, and what k8or polls with."""

    user_code: str
    verification_uri: str
    expires_at: dt.datetime
    interval: float
    verification_uri_complete: str = ""
    # Opaque values the connector needs to poll (device code, client registration); never shown.
    state: Credentials = dataclasses.field(default_factory=Credentials, repr=False)


# --- the connector --------------------------------------------------------------------------------


class Connector(ABC):
    """One service. Subclasses set `name`, `display_name`, `settings_model` and implement the hooks.

    `sites` guards any URL a person types for this service (connectors.sites); it defaults to public
    https hosts only, and the registry sets it from K8OR_SITE_ALLOWLIST.
    """

    name: ClassVar[str]
    display_name: ClassVar[str]
    settings_model: ClassVar[type[Section] | None] = None
    # This connector's settings section; a subclass narrows the type to its own `settings_model`.
    settings: Section | None

    def __init__(self, settings: Section | None = None) -> None:
        model = self.settings_model
        self.settings = settings if settings is not None else (model() if model else None)
        self.sites = SiteGuard()

    @abstractmethod
    def sign_in_methods(self) -> tuple[SignInMethod, ...]:
        """The ways a person can sign in, most recommended first."""

    @abstractmethod
    async def verify(self, credentials: Credentials) -> Identity:
        """Ask the service who these credentials belong to; raise a VerificationError if it will not say."""

    def sign_in_method(self, key: str) -> SignInMethod:
        """The sign-in method named `key`; KeyError if this connector has none by that name."""
        for method in self.sign_in_methods():
            if method.key == key:
                return method
        raise KeyError(key)

    def credentials_from_form(self, method: TokenFields, form: Mapping[str, str]) -> Credentials:
        """Credentials from a submitted token form; override to normalise values (e.g. strip a URL)."""
        return method.collect(form, self.name, self.display_name)

    def authorization_url(self, method: OAuthAuthorizationCode, state: str, redirect_uri: str) -> str:
        """The provider's consent-screen URL for the code flow."""
        raise NotConfigured(self.name, self.display_name)

    async def exchange_code(
        self, method: OAuthAuthorizationCode, code: str, redirect_uri: str
    ) -> Credentials:
        """Exchange an authorization code at the provider's token endpoint."""
        raise NotConfigured(self.name, self.display_name)

    async def start_device_authorization(self, method: OAuthDeviceAuthorization) -> DeviceAuthorization:
        """Ask the provider for a device code and a user code."""
        raise NotConfigured(self.name, self.display_name)

    async def poll_device_authorization(
        self, method: OAuthDeviceAuthorization, device: DeviceAuthorization
    ) -> Credentials | None:
        """Credentials once the person approved, None while pending; SignInDenied/SignInExpired otherwise."""
        raise NotConfigured(self.name, self.display_name)

    async def aclose(self) -> None:
        """Release long-lived clients (HTTP sessions); called when the app stops."""
        return None  # most connectors hold nothing open

    def error(self, kind: type[VerificationError]) -> VerificationError:
        """An error of `kind` labelled with this connector's names."""
        return kind(self.name, self.display_name)


# --- the registry ---------------------------------------------------------------------------------


class RegistrationError(ValueError):
    """A connector class breaks the contract (name clash, verify not a coroutine, missing names)."""


class ConnectorRegistry:
    """The connectors this k8or knows, by name. Tests build their own; the app loads entry points."""

    def __init__(self, connectors: Iterable[Connector] = ()) -> None:
        self._connectors: dict[str, Connector] = {}
        for connector in connectors:
            self.register(connector)

    def register(self, connector: Connector) -> Connector:
        """Add a connector instance after checking it keeps the contract."""
        check_contract(type(connector))
        if connector.name in self._connectors:
            raise RegistrationError(f"a connector named {connector.name!r} is already registered")
        self._connectors[connector.name] = connector
        return connector

    def get(self, name: str) -> Connector:
        """The connector called `name`; KeyError if none."""
        return self._connectors[name]

    def __contains__(self, name: object) -> bool:
        return name in self._connectors

    def __iter__(self) -> Iterator[Connector]:
        return iter(self._connectors.values())

    def __len__(self) -> int:
        return len(self._connectors)

    def names(self) -> list[str]:
        """Registered connector names in registration order."""
        return list(self._connectors)

    async def aclose(self) -> None:
        """Close every connector's clients."""
        for connector in self._connectors.values():
            await connector.aclose()

    @classmethod
    def from_entry_points(
        cls,
        settings: object | None = None,
        *,
        group: str = ENTRY_POINT_GROUP,
        only: Iterable[str] | None = None,
    ) -> ConnectorRegistry:
        """Load every connector advertised under `group`, each built with its settings section.

        `settings` is the app's root settings; a connector named `github` gets `settings.github`
        when that attribute exists, else its own defaults, and every connector gets the site guard
        of `settings.site_allowlist`. `only` limits loading to those names.
        """
        wanted = set(only) if only is not None else None
        sites = SiteGuard.from_setting(str(getattr(settings, "site_allowlist", "") or ""))
        registry = cls()
        for entry_point in sorted(in_group(group), key=lambda ep: ep.name):
            if wanted is not None and entry_point.name not in wanted:
                continue
            connector_class = _load(entry_point)
            section = getattr(settings, connector_class.name, None) if settings is not None else None
            connector = connector_class(section)
            connector.sites = sites
            registry.register(connector)
        return registry


def _load(entry_point: EntryPoint) -> type[Connector]:
    loaded = entry_point.load()
    if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
        raise RegistrationError(f"entry point {entry_point.name!r} does not name a Connector subclass")
    if loaded.name != entry_point.name:
        raise RegistrationError(f"entry point {entry_point.name!r} loads connector named {loaded.name!r}")
    return loaded


def check_contract(connector_class: type[Connector]) -> None:
    """Raise RegistrationError unless the class names itself and its I/O hooks are coroutines."""
    for attribute in ("name", "display_name"):
        if not isinstance(getattr(connector_class, attribute, None), str):
            raise RegistrationError(f"{connector_class.__qualname__} must set a string {attribute!r}")
    for hook in ("verify", "exchange_code", "start_device_authorization", "poll_device_authorization"):
        if not inspect.iscoroutinefunction(getattr(connector_class, hook)):
            raise RegistrationError(f"{connector_class.__qualname__}.{hook} must be a coroutine function")
    if inspect.isabstract(connector_class):
        raise RegistrationError(f"{connector_class.__qualname__} does not implement the whole contract")

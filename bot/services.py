"""The long-lived things a turn may use, built once by the app factory and closed at shutdown.

Everything a turn reaches is a typed field here. Capabilities that a layer above the framework
adds (the cluster directory of the cluster commands) travel under a typed `ServiceKey`, declared by
the module that owns the capability and installed by the composition root (aiohttp's AppKey model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from botbuilder.core import Storage

from bot.commands.registry import CommandRegistry
from bot.db import Database
from bot.dedupe import DeliveryLedger
from bot.direct import DirectMessages
from bot.identity import ActivityIdentity, IdentityResolver, Person
from bot.logs import AppSecrets
from bot.metrics import BotMetrics
from bot.roles import NoRoles, RoleResolver
from bot.settings import Settings
from bot.signin.components import SignIn
from bot.tracker import TurnTracker

T = TypeVar("T")


class AuditSink(Protocol):
    async def append(self, entry: Any) -> None: ...


class ConnectorGate(Protocol):
    """Which of the named connectors this person has not signed in to, with how to sign in."""

    async def missing(self, person: Person, connectors: tuple[str, ...]) -> list[tuple[str, str, str]]:
        """(service, display name, login link) for each connector still needed."""
        ...


class ApprovalPolicy(Protocol):
    def two_person_rule(self, namespace: str | None) -> bool: ...


class SameCallerApproves:
    def two_person_rule(self, namespace: str | None) -> bool:
        return False


class ServiceKey(Generic[T]):
    """A typed name for a capability added above the framework: `CLUSTERS = ServiceKey("clusters")`
    with `ServiceKey[ClusterDirectory]` as its type, so reading it back needs no cast."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"ServiceKey({self.name!r})"


class Capabilities:
    """Capabilities by typed key. Installed at start-up by the composition root (or by a test)."""

    def __init__(self) -> None:
        self._items: dict[ServiceKey[Any], Any] = {}

    def __setitem__(self, key: ServiceKey[T], value: T) -> None:
        self._items[key] = value

    def __getitem__(self, key: ServiceKey[T]) -> T:
        value: T = self._items[key]
        return value

    def get(self, key: ServiceKey[T]) -> T | None:
        value: T | None = self._items.get(key)
        return value

    def __contains__(self, key: ServiceKey[Any]) -> bool:
        return key in self._items


@dataclass
class Services:
    settings: Settings
    db: Database
    storage: Storage
    registry: CommandRegistry
    metrics: BotMetrics
    ledger: DeliveryLedger
    tracker: TurnTracker
    roles: RoleResolver = field(default_factory=NoRoles)
    identity: IdentityResolver = field(default_factory=ActivityIdentity)
    approvals: ApprovalPolicy = field(default_factory=SameCallerApproves)
    gate: ConnectorGate | None = None
    audit: AuditSink | None = None
    # The person's one-to-one conversations: login links and sign-in outcomes go there.
    direct: DirectMessages | None = None
    # Connectors, vault and sign-in links, when the sign-in layer is mounted.
    signin: SignIn | None = None
    capabilities: Capabilities = field(default_factory=Capabilities)
    # This app's secrets in the log scrubber, released when the services close.
    secrets: AppSecrets | None = None

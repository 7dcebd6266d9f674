"""The long-lived things a turn may use, built once by the app factory and closed at shutdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from botbuilder.core import Storage
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.commands.registry import CommandRegistry
from bot.db import Database
from bot.dedupe import DeliveryLedger
from bot.identity import ActivityIdentity, IdentityResolver, Person
from bot.metrics import BotMetrics
from bot.roles import NoRoles, RoleResolver
from bot.settings import Settings
from bot.tracker import TurnTracker


class AuditSink(Protocol):
    async def append(self, entry: dict[str, Any]) -> None: ...


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


@dataclass
class Services:
    settings: Settings
    db: Database
    engine: AsyncEngine
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
    # Capabilities added by later layers (vault, connectors, clusters, k8orize) live here by name,
    # each put in place by the app factory; commands read them through typed helpers in their module.
    extras: dict[str, Any] = field(default_factory=dict)

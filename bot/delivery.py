"""The activity a turn runs, as the delivery ledger (`bot.dedupe`) handed it over: its key, and
whether a replica that died had claimed it before (a retaken turn). Audit entries carry the key, and
a retaken turn asks the audit trail whether its command already acted."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from policy.audit import AuditEntry


@dataclass(frozen=True)
class Delivery:
    """The activity this turn runs: its ledger key, and whether a lapsed claim was taken over."""

    key: str
    retaken: bool = False


# The turn's delivery, for the audit entries it writes (`policy.entries.audit_entry(activity_id=)`).
current_delivery: ContextVar[Delivery | None] = ContextVar("k8or_delivery", default=None)


def current_activity_key() -> str:
    """The ledger key of the activity this turn runs; empty outside a claimed turn."""
    delivery = current_delivery.get()
    return delivery.key if delivery else ""


@runtime_checkable
class ActedLookup(Protocol):
    """An audit trail that can say whether a command's handler already ran for an activity."""

    async def acted(self, activity_id: str, command: str) -> AuditEntry | None: ...


async def acted_before(audit: object, command: str) -> AuditEntry | None:
    """In a retaken turn: the audit entry saying `command`'s handler already ran for this activity.

    None in a first delivery (nothing can have run: no lookup at all, so the usual turn pays nothing),
    or when the audit trail has no such entry (the earlier run died before its handler finished)."""
    delivery = current_delivery.get()
    if delivery is None or not delivery.retaken or not isinstance(audit, ActedLookup):
        return None
    return await audit.acted(delivery.key, command)

"""What k8or keeps about integrations: which tools each app's deploys and rollbacks tell, and the
Toggl entries rollbacks started. Tables: bot.schema (`k8or_integrations`, `k8or_incident_timers`).

An integration belongs to a place (cluster, namespace) and an app; app "" is the whole namespace
(a freeze calendar). Its settings are a small JSON object (a Jira transition, a Miro board, a
calendar id, a freeze override's end).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select

from bot.db import Database
from bot.schema import incident_timers, integrations

_i, _t = integrations.c, incident_timers.c
TOOLS = ("jira", "github", "toggl", "miro", "calendar")
NAMESPACE_WIDE = ""  # the app of a row that holds for every app of its namespace


@dataclass(frozen=True)
class Place:
    """Where an app runs, by name."""

    cluster: str
    namespace: str
    app: str = NAMESPACE_WIDE

    def where(self, table: Any) -> Any:
        return (
            (table.c.cluster == self.cluster)
            & (table.c.namespace == self.namespace)
            & (table.c.app == self.app)
        )


@dataclass(frozen=True)
class Integration:
    """One tool an app's deploys and rollbacks tell, with its settings."""

    place: Place
    tool: str
    settings: dict[str, str] = field(default_factory=dict)
    enabled_by: str = ""


@dataclass(frozen=True)
class IncidentTimer:
    """A Toggl entry a rollback started for a person."""

    place: Place
    person: str
    workspace_id: int
    entry_id: int
    description: str


class IntegrationStore:
    """Integrations and incident timers over k8or's one database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def enable(self, integration: Integration) -> None:
        """Turn a tool on for a place (replacing its settings when it was on already)."""
        row = {
            "settings": json.dumps(integration.settings, sort_keys=True),
            "enabled_by": integration.enabled_by,
            "updated_at": datetime.now(UTC),
        }
        where = integration.place.where(integrations) & (_i.tool == integration.tool)
        async with self._db.begin() as conn:
            await conn.execute(delete(integrations).where(where))
            place = integration.place
            await conn.execute(
                integrations.insert().values(
                    cluster=place.cluster,
                    namespace=place.namespace,
                    app=place.app,
                    tool=integration.tool,
                    **row,
                )
            )

    async def disable(self, place: Place, tool: str) -> bool:
        """Turn a tool off for a place; whether it was on."""
        async with self._db.begin() as conn:
            gone = await conn.execute(
                delete(integrations).where(place.where(integrations) & (_i.tool == tool))
            )
        return bool(gone.rowcount)

    async def of(self, place: Place) -> list[Integration]:
        """The tools on for an app, with the namespace-wide ones (app "") after its own."""
        apps = [place.app, NAMESPACE_WIDE] if place.app else [NAMESPACE_WIDE]
        query = (
            select(integrations)
            .where((_i.cluster == place.cluster) & (_i.namespace == place.namespace) & _i.app.in_(apps))
            .order_by(_i.app.desc(), _i.tool)
        )
        async with self._db.begin() as conn:
            rows = (await conn.execute(query)).all()
        return [
            Integration(Place(r.cluster, r.namespace, r.app), r.tool, json.loads(r.settings), r.enabled_by)
            for r in rows
        ]

    async def start_timer(self, timer: IncidentTimer) -> None:
        """Remember a started entry (one per person and app: a newer one replaces it)."""
        place = timer.place
        async with self._db.begin() as conn:
            await conn.execute(
                delete(incident_timers).where(place.where(incident_timers) & (_t.person == timer.person))
            )
            await conn.execute(
                incident_timers.insert().values(
                    cluster=place.cluster,
                    namespace=place.namespace,
                    app=place.app,
                    person=timer.person,
                    workspace_id=str(timer.workspace_id),
                    entry_id=str(timer.entry_id),
                    description=timer.description,
                    started_at=datetime.now(UTC),
                )
            )

    async def timers(self, place: Place) -> list[IncidentTimer]:
        """The entries still running for an app, whoever started them."""
        async with self._db.begin() as conn:
            rows = (await conn.execute(select(incident_timers).where(place.where(incident_timers)))).all()
        return [
            IncidentTimer(place, r.person, int(r.workspace_id), int(r.entry_id), r.description) for r in rows
        ]

    async def forget_timer(self, timer: IncidentTimer) -> None:
        """The entry is stopped: drop it."""
        where = (
            timer.place.where(incident_timers)
            & (_t.person == timer.person)
            & (_t.entry_id == str(timer.entry_id))
        )
        async with self._db.begin() as conn:
            await conn.execute(delete(incident_timers).where(where))

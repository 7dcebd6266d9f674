"""What on-call alerting keeps in the database: subscriptions, alerts sent, silences, watch cursors.

A subscription is a conversation (its Bot Framework reference) watching one cluster and namespace
for some kinds of trouble, optionally for some apps. An alert row (one per subscription and
incident) is claimed before its message is sent, so two replicas, or one restarted, never send the
same alert twice: whoever finds the row edits the message it names. Tables: bot.schema.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.db import Database
from bot.schema import notify_alerts, notify_cursors, notify_silences, notify_subscriptions

_s, _a, _q, _c = notify_subscriptions.c, notify_alerts.c, notify_silences.c, notify_cursors.c
ALL = "all"


@dataclass(frozen=True)
class Subscription:
    id: str
    conversation: str  # channel|conversation id
    reference: dict[str, Any]  # the conversation reference, in Bot Framework's wire form
    cluster: str
    namespace: str
    events: frozenset[str]
    apps: frozenset[str] = frozenset()  # empty: every app
    created_by: str = ""
    failures: int = 0
    last_error: str = ""

    def wants(self, event: str, app: str) -> bool:
        return event in self.events and (not self.apps or app in self.apps)


@dataclass(frozen=True)
class AlertRecord:
    activity_id: str
    state: str  # open, resolved, or claimed (being sent)
    text: str
    updated_at: datetime


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        conversation=row.conversation,
        reference=json.loads(row.reference),
        cluster=row.cluster,
        namespace=row.namespace,
        events=frozenset(e for e in row.events.split(",") if e),
        apps=frozenset(a for a in row.apps.split(",") if a),
        created_by=row.created_by,
        failures=row.failures,
        last_error=row.last_error,
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class AlertStore:
    """Subscriptions, alerts, silences and cursors over k8or's one database."""

    def __init__(self, db: Database):
        self._db = db

    # -- subscriptions

    async def subscribe(self, sub: Subscription) -> Subscription:
        """Add the subscription, or replace what an existing one for the same place watches."""
        values = {
            "reference": json.dumps(sub.reference, sort_keys=True),
            "events": ",".join(sorted(sub.events)),
            "apps": ",".join(sorted(sub.apps)),
            "created_by": sub.created_by,
            "failures": 0,
            "last_error": "",
        }
        where = (
            (_s.conversation == sub.conversation)
            & (_s.cluster == sub.cluster)
            & (_s.namespace == sub.namespace)
        )
        async with self._db.begin() as conn:
            found = (await conn.execute(select(_s.id).where(where))).scalar()
            if found is None:
                new_id = uuid.uuid4().hex
                try:
                    async with conn.begin_nested():
                        await conn.execute(
                            notify_subscriptions.insert().values(
                                id=new_id,
                                conversation=sub.conversation,
                                cluster=sub.cluster,
                                namespace=sub.namespace,
                                created_at=datetime.now(UTC),
                                **values,
                            )
                        )
                    found = new_id
                except IntegrityError:
                    found = (await conn.execute(select(_s.id).where(where))).scalar()
            await conn.execute(update(notify_subscriptions).where(_s.id == found).values(**values))
        return Subscription(**{**sub.__dict__, "id": str(found)})

    async def unsubscribe(self, conversation: str, cluster: str | None, namespaces: list[str]) -> int:
        """Remove the conversation's subscriptions (on `cluster`, in `namespaces`; all when not given)."""
        where = _s.conversation == conversation
        if cluster:
            where &= _s.cluster == cluster
        if namespaces:
            where &= _s.namespace.in_(namespaces)
        async with self._db.begin() as conn:
            ids = (await conn.execute(select(_s.id).where(where))).scalars().all()
            if ids:
                await conn.execute(delete(notify_alerts).where(_a.subscription.in_(ids)))
                await conn.execute(delete(notify_subscriptions).where(_s.id.in_(ids)))
        return len(ids)

    async def subscriptions(self, conversation: str | None = None) -> list[Subscription]:
        query = select(notify_subscriptions).order_by(_s.cluster, _s.namespace)
        if conversation is not None:
            query = query.where(_s.conversation == conversation)
        async with self._db.begin() as conn:
            return [_subscription(row) for row in (await conn.execute(query)).all()]

    async def delivered(self, sub_id: str) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                update(notify_subscriptions)
                .where((_s.id == sub_id) & (_s.failures != 0))
                .values(failures=0, last_error="")
            )

    async def failed(self, sub_id: str, error: str, drop_after: int) -> int:
        """Count a failed delivery; the subscription is dropped at `drop_after` failures in a row.
        Returns the failures counted (0 when the subscription is already gone)."""
        async with self._db.begin() as conn:
            count = (await conn.execute(select(_s.failures).where(_s.id == sub_id))).scalar()
            if count is None:
                return 0
            count += 1
            if count >= drop_after:
                await conn.execute(delete(notify_alerts).where(_a.subscription == sub_id))
                await conn.execute(delete(notify_subscriptions).where(_s.id == sub_id))
            else:
                await conn.execute(
                    update(notify_subscriptions)
                    .where(_s.id == sub_id)
                    .values(failures=count, last_error=error[:500])
                )
            return int(count)

    # -- alerts

    async def alert(self, sub_id: str, incident: str) -> AlertRecord | None:
        query = select(_a.activity_id, _a.state, _a.text, _a.updated_at).where(
            (_a.subscription == sub_id) & (_a.incident == incident)
        )
        async with self._db.begin() as conn:
            row = (await conn.execute(query)).first()
        return AlertRecord(row.activity_id, row.state, row.text, _aware(row.updated_at)) if row else None

    async def claim(self, sub_id: str, incident: str) -> bool:
        """Claim the first message for this incident; False when a row exists (someone sent it)."""
        now = datetime.now(UTC)
        row = {
            "subscription": sub_id,
            "incident": incident,
            "activity_id": "",
            "state": "claimed",
            "text": "",
        }
        try:
            async with self._db.begin() as conn:
                await conn.execute(notify_alerts.insert().values(opened_at=now, updated_at=now, **row))
        except IntegrityError:
            return False
        return True

    async def record(
        self, sub_id: str, incident: str, state: str, text: str, activity_id: str | None = None
    ) -> None:
        values: dict[str, Any] = {"state": state, "text": text, "updated_at": datetime.now(UTC)}
        if activity_id is not None:
            values["activity_id"] = activity_id
        where = (_a.subscription == sub_id) & (_a.incident == incident)
        async with self._db.begin() as conn:
            await conn.execute(update(notify_alerts).where(where).values(**values))

    async def release(self, sub_id: str, incident: str) -> None:
        """Give up a claim whose message could not be sent, so a later attempt may send it."""
        where = (_a.subscription == sub_id) & (_a.incident == incident) & (_a.state == "claimed")
        async with self._db.begin() as conn:
            await conn.execute(delete(notify_alerts).where(where))

    async def release_claims(self, prefix: str) -> int:
        """Give up every claim on incidents named `prefix`… (a cluster's): a new leader's, whose
        predecessor stopped with messages claimed and not sent. Returns how many."""
        where = (_a.state == "claimed") & _a.incident.startswith(prefix, autoescape=True)
        async with self._db.begin() as conn:
            done = await conn.execute(delete(notify_alerts).where(where))
        return int(done.rowcount or 0)

    # -- silences

    async def silence(self, conversation: str, app: str, until: datetime, by: str) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                delete(notify_silences).where((_q.conversation == conversation) & (_q.app == app))
            )
            await conn.execute(
                notify_silences.insert().values(
                    conversation=conversation, app=app, until=until, silenced_by=by
                )
            )

    async def silenced_until(self, conversation: str, app: str) -> datetime | None:
        query = select(_q.until).where((_q.conversation == conversation) & (_q.app == app))
        async with self._db.begin() as conn:
            until = (await conn.execute(query)).scalar()
        if until is None or _aware(until) <= datetime.now(UTC):
            return None
        return _aware(until)

    # -- cursors

    async def save_cursor(self, watch: str, version: str) -> None:
        now = datetime.now(UTC)
        async with self._db.begin() as conn:
            done = await conn.execute(
                update(notify_cursors)
                .where(_c.watch == watch)
                .values(resource_version=version, updated_at=now)
            )
            if done.rowcount == 0:
                try:
                    async with conn.begin_nested():
                        await conn.execute(
                            notify_cursors.insert().values(
                                watch=watch, resource_version=version, updated_at=now
                            )
                        )
                except IntegrityError:
                    pass

    async def cursors(self, prefix: str) -> dict[str, str]:
        query = select(_c.watch, _c.resource_version).where(_c.watch.startswith(prefix, autoescape=True))
        async with self._db.begin() as conn:
            return {
                row.watch.removeprefix(prefix): row.resource_version
                for row in (await conn.execute(query)).all()
            }

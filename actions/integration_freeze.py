"""Deploy freezes from a Google Calendar: `freeze calendar <calendar-id>` on a namespace (or
`integrate <app> calendar --calendar <id>` for one app) refuses deploys while an event whose title
contains "freeze" is on, read as the person deploying. On-call may override for a while
(`freeze override`, confirmed and audited); a calendar that cannot be read is one ✗ line and the
deploy goes ahead, as any integration's trouble does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from actions import integration_messages as words
from actions.integration_reach import Actor, Reach
from actions.integration_store import Integration, IntegrationStore, Place
from bot.services import Services
from connectors import errors
from connectors.google import GoogleConnector

FREEZE_WORD = "freeze"
CALENDAR = "calendar"
OVERRIDE = "override"  # a namespace-wide row: until when on-call lifted the freeze, and who


@dataclass(frozen=True)
class FreezeCheck:
    """Whether a deploy may go ahead: `refused` says why not; `lines` go into its reply either way."""

    refused: str = ""
    lines: tuple[str, ...] = ()


async def freeze_check(services: Services, actor: Actor, place: Place) -> FreezeCheck:
    """Is a freeze event on now in the calendars of this app's namespace (or of the app)?"""
    rows = await IntegrationStore(services.db).of(place)
    calendars = [
        row.settings["calendar"] for row in rows if row.tool == CALENDAR and row.settings.get("calendar")
    ]
    if not calendars:
        return FreezeCheck()
    access = await Reach(services, actor).connector("google", GoogleConnector)
    if isinstance(access, str):
        return FreezeCheck(lines=(words.UNCHECKED.format(line=access, environment=place.namespace),))
    google, credentials = access
    try:
        titles = [title for calendar in calendars for title in await google.events_now(credentials, calendar)]
    except errors.VerificationError as exc:
        return FreezeCheck(
            lines=(words.UNCHECKED.format(line=Reach.failed(exc), environment=place.namespace),)
        )
    frozen = [title for title in titles if FREEZE_WORD in title.casefold()]
    if not frozen:
        return FreezeCheck()
    override = _override(rows)
    if override is not None:
        until, by = override
        return FreezeCheck(
            lines=(words.OVERRIDDEN.format(event=frozen[0], person=by, until=until.strftime("%H:%M")),)
        )
    return FreezeCheck(refused=words.FROZEN.format(environment=place.namespace, event=frozen[0]))


def _override(rows: list[Integration]) -> tuple[dt.datetime, str] | None:
    row = next((r for r in rows if r.tool == OVERRIDE and r.place.app == ""), None)
    if row is None:
        return None
    until = dt.datetime.fromisoformat(row.settings.get("until", "1970-01-01T00:00:00+00:00"))
    return (until, row.settings.get("by", "")) if until > dt.datetime.now(dt.UTC) else None


async def override_freeze(services: Services, actor: Actor, place: Place, minutes: int) -> dt.datetime:
    """Lift the namespace's freeze for `minutes` (the command is confirmed and audited); until when."""
    until = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    settings = {"until": until.isoformat(), "by": actor.name}
    namespace = Place(place.cluster, place.namespace)
    await IntegrationStore(services.db).enable(Integration(namespace, OVERRIDE, settings, actor.key))
    return until

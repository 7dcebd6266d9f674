"""What the notify commands do (`dialogs.notify` declares them): keep a conversation's subscriptions
(bot.alert_store) and hand them to the running AlertDesk (actions.alerting).

Imported when one of these commands first runs, so k8or starts without the libraries it uses.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from botbuilder.core import TurnContext

from actions.alerting import NOTIFY, AlertDesk
from bot.alert_store import ALL, Subscription
from bot.commands.grammar import Arguments
from bot.context import CommandContext
from bot.errors import K8orError
from bot.wire import to_wire
from cluster.incidents import EVENT_KINDS
from dialogs import notify_messages as say
from dialogs.cluster import APP
from dialogs.cluster_targets import NO_CLUSTER

MAX_SILENCE = timedelta(days=7)
_DURATION = re.compile(r"([1-9][0-9]{0,3})([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def _desk(ctx: CommandContext) -> AlertDesk:
    desk = ctx.services.capabilities.get(NOTIFY)
    if desk is None:
        raise K8orError(say.NOT_RUNNING)
    return desk


def conversation_key(ctx: CommandContext) -> str:
    activity = ctx.turn.activity
    return f"{activity.channel_id}|{activity.conversation.id if activity.conversation else ''}"


def _events(raw: str) -> frozenset[str]:
    names = {n.strip().lower() for n in raw.split(",") if n.strip()}
    if not names or ALL in names:
        return frozenset(EVENT_KINDS)
    bad = sorted(names - set(EVENT_KINDS))
    if bad:
        raise K8orError(say.UNKNOWN_EVENTS.format(bad=", ".join(bad), known=", ".join(EVENT_KINDS)))
    return frozenset(names)


def _apps(raw: str) -> frozenset[str]:
    try:
        return frozenset(APP(a.strip()) for a in raw.split(",") if a.strip())
    except ValueError as exc:
        raise K8orError(str(exc)) from None


async def notify_on(ctx: CommandContext, args: Arguments) -> str:
    desk = _desk(ctx)
    cluster = ctx.cluster
    if not cluster:
        raise K8orError(NO_CLUSTER)
    events, apps = _events(args.events), _apps(args.apps)
    namespaces = list(dict.fromkeys(args.namespace)) or [ctx.namespace or "default"]
    for namespace in namespaces:
        await desk.target_for(cluster, namespace)  # an unknown cluster is refused now, not later
    reference = TurnContext.get_conversation_reference(ctx.turn.activity)
    reference.activity_id = None  # alerts start their own messages, not replies
    for namespace in namespaces:
        await desk.store.subscribe(
            Subscription(
                "",
                conversation_key(ctx),
                to_wire(reference),
                cluster,
                namespace,
                events,
                apps,
                ctx.person.key,
            )
        )
    await desk.refresh()
    what = "everything" if events == frozenset(EVENT_KINDS) else ", ".join(sorted(events))
    places = ", ".join(f"`{n}`" for n in namespaces)
    shown = say.SUBSCRIBED_APPS.format(apps=", ".join(f"`{a}`" for a in sorted(apps))) if apps else ""
    return say.SUBSCRIBED.format(what=what, places=places, cluster=cluster, apps=shown)


async def notify_off(ctx: CommandContext, args: Arguments) -> str:
    desk = _desk(ctx)
    namespaces = list(args.namespace)
    count = await desk.store.unsubscribe(conversation_key(ctx), None, namespaces)
    await desk.refresh()
    if not count:
        where = (" for " + ", ".join(f"`{n}`" for n in namespaces)) if namespaces else ""
        return say.NOTHING_TO_STOP.format(where=where)
    return say.UNSUBSCRIBED.format(count=count)


async def notify_list(ctx: CommandContext, _args: Arguments) -> str:
    desk = _desk(ctx)
    subs = await desk.store.subscriptions(conversation_key(ctx))
    if not subs:
        return say.NO_SUBSCRIPTIONS.format(namespace=ctx.namespace or "default")
    lines = [say.LISTING]
    for sub in subs:
        events = "everything" if sub.events == frozenset(EVENT_KINDS) else ", ".join(sorted(sub.events))
        apps = (" for " + ", ".join(f"`{a}`" for a in sorted(sub.apps))) if sub.apps else ""
        line = say.LISTED.format(
            cluster=sub.cluster, namespace=sub.namespace, events=events, apps=apps, by=sub.created_by
        )
        if sub.failures:
            limit = desk.settings.drop_after
            line += say.LISTED_FAILING.format(failures=sub.failures, error=sub.last_error, limit=limit)
        lines.append(line)
    return "\n".join(lines)


def _duration(raw: str) -> timedelta:
    match = _DURATION.fullmatch(raw.strip().lower())
    if match is None:
        raise K8orError(say.BAD_DURATION.format(value=raw))
    span = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if span > MAX_SILENCE:
        raise K8orError(say.BAD_DURATION.format(value=raw))
    return span


async def notify_silence(ctx: CommandContext, args: Arguments) -> str:
    ctx.audit_target["app"] = args.app
    until = datetime.now(UTC) + _duration(args.duration or "1h")
    await _desk(ctx).store.silence(conversation_key(ctx), args.app, until, ctx.person.key)
    return say.SILENCED.format(app=args.app, until=until.strftime("%Y-%m-%d %H:%M"))

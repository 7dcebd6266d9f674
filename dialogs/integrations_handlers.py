"""What the integration commands do (`dialogs.integrations` declares them), and the three hooks the
cluster commands call: before a deploy (the freeze calendar), when a rollout starts, and when its
follower ends.

Imported when one of these commands first runs, so k8or starts without the libraries it uses.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from actions import integrations as work
from actions.blocking import call
from actions.integration_freeze import CALENDAR, freeze_check, override_freeze
from actions.integration_reach import Actor
from actions.integration_store import TOOLS, Integration, IntegrationStore, Place
from actions.integrations import RolloutStart, place_of
from bot.commands.grammar import Arguments
from bot.context import CommandContext
from bot.errors import K8orError, UsageError
from bot.jobs import JobRun
from cluster.rollout import RolloutProgress
from cluster.source import SourceRef, recorded_source
from cluster.target import ClusterTarget
from dialogs import integrations_messages as words
from dialogs.cluster_targets import directory
from dialogs.integrations import OFF


def actor(ctx: CommandContext) -> Actor:
    return Actor(ctx.person.key, ctx.person.name or ctx.person.key)


async def integrate(ctx: CommandContext, args: Arguments) -> str:
    ctx.audit_target["app"] = args.app
    target = await directory(ctx).target(ctx)
    place = place_of(target, args.app)
    store = IntegrationStore(ctx.services.db)
    if args.tool is None:
        return _listed(place, await store.of(place))
    if args.tool == OFF:
        if args.which is None:
            raise UsageError(words.OFF_NEEDS_TOOL.format(app=args.app), "integrate")
        gone = await store.disable(place, args.which)
        return (words.OFF if gone else words.WAS_OFF).format(
            tool=words.TOOL_NAMES[args.which], **_where(place)
        )
    settings = _settings(args)
    await store.enable(Integration(place, args.tool, settings, ctx.person.key))
    return await _turned_on(ctx, place, args.tool, settings)


def _where(place: Place) -> dict[str, str]:
    return {"app": place.app, "namespace": place.namespace, "cluster": place.cluster}


def _settings(args: Arguments) -> dict[str, str]:
    if args.tool == "jira":
        return {"transition": args.jira_transition} if args.jira_transition else {}
    if args.tool == "miro":
        if not args.miro_board:
            raise UsageError(words.NEEDS_BOARD.format(app=args.app), "integrate")
        return {"board": args.miro_board}
    if args.tool == CALENDAR:
        if not args.calendar:
            raise UsageError(words.NEEDS_CALENDAR.format(app=args.app), "integrate")
        return {"calendar": args.calendar}
    return {}


async def _turned_on(ctx: CommandContext, place: Place, tool: str, settings: dict[str, str]) -> str:
    what = words.WHAT_IT_DOES[tool].format(namespace=place.namespace, app=place.app, **settings)
    text = words.ON.format(tool=words.TOOL_NAMES[tool], what=what, **_where(place))
    if settings.get("transition"):
        text += words.TRANSITION.format(transition=settings["transition"])
    if tool in ("jira", "github"):
        text += words.NEEDS_SOURCE
    signin = ctx.services.signin
    service = words.SIGNIN_SERVICE[tool]
    if signin is not None and await signin.vault.get(ctx.person.key, service) is None:
        connector = signin.connector(service)
        name = connector.display_name if connector else service
        text += words.SIGNED_OUT.format(service=name, signin=service)
    return text


def _listed(place: Place, found: list[Integration]) -> str:
    shown = [i for i in found if i.tool in TOOLS]
    if not shown:
        return words.NOTHING.format(**_where(place))
    lines = [words.LISTED.format(**_where(place))]
    for item in shown:
        settings = "".join(f" · {key} “{value}”" for key, value in sorted(item.settings.items()))
        template = words.ITEM if item.place.app else words.NAMESPACE_ITEM
        lines.append(
            template.format(
                tool=words.TOOL_NAMES[item.tool],
                settings=settings,
                by=item.enabled_by,
                namespace=place.namespace,
            )
        )
    return "\n".join(lines)


async def resolve(ctx: CommandContext, args: Arguments) -> str:
    ctx.audit_target["app"] = args.app
    target = await directory(ctx).target(ctx)
    return "\n".join(await work.resolve(ctx.services, actor(ctx), place_of(target, args.app)))


async def freeze_calendar(ctx: CommandContext, args: Arguments) -> str:
    target = await directory(ctx).target(ctx)
    place = place_of(target)
    store = IntegrationStore(ctx.services.db)
    if args.calendar == OFF:
        await store.disable(place, CALENDAR)
        return words.FREEZE_OFF.format(**_where(place))
    await store.enable(Integration(place, CALENDAR, {"calendar": args.calendar}, ctx.person.key))
    return words.FREEZE_ON.format(calendar=args.calendar, **_where(place))


async def freeze_override(ctx: CommandContext, args: Arguments) -> str:
    target = await directory(ctx).target(ctx)
    until = await override_freeze(ctx.services, actor(ctx), place_of(target), min(args.minutes, 24 * 60))
    return words.FREEZE_LIFTED.format(namespace=target.namespace, until=until, person=actor(ctx).name)


# --- the cluster commands' hooks ---------------------------------------------------------------------


async def before_deploy(ctx: CommandContext, target: ClusterTarget, app: str) -> tuple[str, ...]:
    """Refuse a deploy during a freeze (a K8orError, audited as the deploy's failure); else the lines
    to show with it (an override in force, a calendar that could not be read)."""
    checked = await freeze_check(ctx.services, actor(ctx), place_of(target, app))
    if checked.refused:
        raise K8orError(checked.refused)
    return checked.lines


async def rollout_started(
    ctx: CommandContext,
    target: ClusterTarget,
    app: str,
    action: str,
    source: SourceRef | None,
    notes: tuple[str, ...] = (),
    board: str | None = None,
) -> dict[str, Any]:
    """Tell the app's tools a rollout started; what the follower needs, as a job argument (JSON).
    A rollback's source commit is the one its revision recorded (read back from the cluster)."""
    place = place_of(target, app)
    if not await IntegrationStore(ctx.services.db).of(place):
        return RolloutStart(lines=notes, board=board or "").to_json()
    if source is None and action == work.ROLLBACK:
        source = await call(recorded_source, target, app)
    started = await work.rollout_started(ctx.services, actor(ctx), place, action, source)
    return dataclasses.replace(started, lines=(*notes, *started.lines), board=board or "").to_json()


async def after_follow(
    run: JobRun,
    target: ClusterTarget,
    last: RolloutProgress | K8orError | None,
    timeline: list[RolloutProgress],
) -> None:
    """Tell the app's tools how the rollout ended, and add their lines (those of its start first)
    under the rollout's last state in the progress message."""
    app, action = run.arguments["app"], run.arguments["action"]
    started = RolloutStart.from_json(run.arguments.get("integrations"))
    if started == RolloutStart() and not await IntegrationStore(run.ctx.services.db).of(
        place_of(target, app)
    ):
        return
    ended = last if isinstance(last, RolloutProgress) else None
    after = await work.rollout_ended(
        run.ctx.services, actor(run.ctx), target, app, action, ended, started, timeline
    )
    lines = [*started.lines, *after]
    if lines:
        await run.progress.update("\n".join([run.progress.text, *lines]))

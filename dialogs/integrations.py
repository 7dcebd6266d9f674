"""`integrate`, `resolve` and `freeze`: what an app's deploys and rollbacks tell the tools around it.

`integrate <app> jira|github|toggl|miro|calendar` turns a tool on for the app in the conversation's
cluster and namespace (stored by actions.integration_store); `integrate <app> off <tool>` turns it
off; `integrate <app>` lists them. The work itself is in actions.integrations, done as whoever runs
the deploy or rollback; this module also holds the three hooks the cluster commands call: before a
deploy (the freeze calendar), when a rollout starts, and when its follower ends.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from actions import integrations as work
from actions.cluster import call
from actions.integration_freeze import CALENDAR, freeze_check, override_freeze
from actions.integration_reach import Actor
from actions.integration_store import TOOLS, Integration, IntegrationStore, Place
from actions.integrations import RolloutStart, place_of
from bot.commands.grammar import Arguments, arg, opt, positive_int
from bot.commands.registry import CommandSet
from bot.context import CommandContext
from bot.errors import K8orError, UsageError
from bot.jobs import JobRun
from cluster import names
from cluster.errors import ClusterError
from cluster.rollout import RolloutProgress
from cluster.source import SourceRef, recorded_source
from cluster.target import ClusterTarget
from dialogs import integrations_messages as words
from dialogs.cluster_targets import directory
from policy.roles import DEFAULT_COMMAND_ROLES

commands = CommandSet()
OFF = "off"


def _app(raw: str) -> str:
    try:
        return names.app_name(raw)
    except ClusterError as exc:
        raise ValueError(str(exc)) from None


def _text(raw: str) -> str:
    """A short setting (a transition, a board or calendar id): printable, up to 200 characters."""
    value = raw.strip()
    if not value or len(value) > 200 or not value.isprintable():
        raise ValueError(f"a name or id is 1 to 200 printable characters (this one has {len(raw)})")
    return value


_app.__name__, _text.__name__ = "app name", "name or id"
TEXT = _text  # the cluster commands' `--miro-board`


def actor(ctx: CommandContext) -> Actor:
    return Actor(ctx.person.key, ctx.person.name or ctx.person.key)


def _roles(command: str) -> tuple[str, ...]:
    return (DEFAULT_COMMAND_ROLES[command],)


@commands.command(
    "integrate",
    "Tell Jira, GitHub, Toggl Track, Miro or a freeze calendar about an app's deploys and rollbacks.",
    params=[
        arg("app", "Which app", type=_app),
        arg("tool", "Which tool (or off)", required=False, choices=(*TOOLS, OFF)),
        arg("which", "With off: which tool", required=False, choices=TOOLS),
        opt(
            "jira-transition",
            "Jira: move shipped issues through this transition (or to this status)",
            type=_text,
        ),
        opt("miro-board", "Miro: which board gets each rollout's timeline", type=_text),
        opt("calendar", "Calendar: which Google calendar holds the freezes", type=_text),
    ],
    roles=_roles("integrate"),
    examples=(
        "integrate web",
        "integrate web jira --jira-transition Deployed",
        "integrate web github",
        "integrate web toggl",
        "integrate web off jira",
    ),
    details="Each tool acts as the person who runs the deploy or rollback, through their own sign-in.",
)
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


@commands.command(
    "resolve",
    "The incident is over: stop the Toggl Track entry your rollback of an app started.",
    params=[arg("app", "Which app", type=_app)],
    roles=_roles("resolve"),
    examples=("resolve web",),
)
async def resolve(ctx: CommandContext, args: Arguments) -> str:
    ctx.audit_target["app"] = args.app
    target = await directory(ctx).target(ctx)
    return "\n".join(await work.resolve(ctx.services, actor(ctx), place_of(target, args.app)))


@commands.command(
    "freeze calendar",
    "Refuse deploys into this namespace while its Google calendar has an event titled “…freeze…”.",
    params=[arg("calendar", "Which calendar id (or off)", type=_text)],
    roles=_roles("freeze calendar"),
    examples=("freeze calendar releases@group.calendar.google.com", "freeze calendar off"),
)
async def freeze_calendar(ctx: CommandContext, args: Arguments) -> str:
    target = await directory(ctx).target(ctx)
    place = place_of(target)
    store = IntegrationStore(ctx.services.db)
    if args.calendar == OFF:
        await store.disable(place, CALENDAR)
        return words.FREEZE_OFF.format(**_where(place))
    await store.enable(Integration(place, CALENDAR, {"calendar": args.calendar}, ctx.person.key))
    return words.FREEZE_ON.format(calendar=args.calendar, **_where(place))


@commands.command(
    "freeze override",
    "Let deploys into this namespace go ahead during a freeze, for a while (on-call).",
    params=[opt("minutes", "For how long", type=positive_int, default=60)],
    roles=_roles("freeze override"),
    destructive=True,
    examples=("freeze override", "freeze override --minutes 30"),
)
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

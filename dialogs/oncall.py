"""What on-call reads first: `logs <app>`, `events [<app>]` and `describe <app>`.

Viewer commands on the conversation's cluster and namespace, like `status`. Each calls the cluster
library (cluster.logs, cluster.events, cluster.describe) and renders its result; the wording lives in
dialogs.oncall_messages, the channel's message limit in dialogs.message_fit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from actions.cluster import call
from actions.errors import ClusterFailed
from bot.commands.grammar import Arguments, arg, opt
from bot.commands.registry import CommandSet
from bot.context import CommandContext, Reply
from bot.errors import K8orError
from cluster import names
from cluster.apps import AppNotFound
from cluster.describe import describe_app
from cluster.errors import ClusterError
from cluster.events import recent_events
from cluster.logs import DEFAULT_LINES, MAX_LINES, NoPods, NoPreviousInstance, NotScheduled, app_logs
from dialogs import oncall_messages as words
from dialogs.cluster_targets import directory
from dialogs.message_fit import fit, fit_reply, limit_for
from policy.roles import DEFAULT_COMMAND_ROLES

commands = CommandSet()
P = ParamSpec("P")
T = TypeVar("T")


def _app(raw: str) -> str:
    try:
        return names.app_name(raw)
    except ClusterError as exc:
        raise ValueError(str(exc)) from None


def _container(raw: str) -> str:
    try:
        return names.dns_label(raw, "container name")
    except ClusterError as exc:
        raise ValueError(str(exc)) from None


def _lines(raw: str) -> int:
    """1 to MAX_LINES, refused while parsing with the bounds and an example."""
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LINES:
        raise ValueError(f"{raw!r} is not a number of lines from 1 to {MAX_LINES} (e.g. `--lines 200`)")
    return value


_app.__name__, _container.__name__, _lines.__name__ = "app name", "container name", "number of lines"


def _roles(command: str) -> tuple[str, ...]:
    return (DEFAULT_COMMAND_ROLES[command],)


async def _read(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """A cluster read; a missing app or an app without pods is one line with a hint."""
    try:
        return await call(fn, *args, **kwargs)
    except ClusterFailed as exc:
        if isinstance(exc.cause, AppNotFound):
            raise K8orError(words.NO_APP.format(problem=_capital(str(exc.cause)))) from exc
        if isinstance(exc.cause, NoPods | NotScheduled | NoPreviousInstance):
            raise K8orError(words.NOTHING_TO_READ.format(problem=_capital(str(exc.cause)))) from exc
        raise


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


@commands.command(
    "logs",
    "Show the last lines of an app's failing (or newest) pod.",
    params=[
        arg("app", "Which app", type=_app),
        opt("previous", "The previous instance of a restarting container", flag=True),
        opt("lines", "How many lines", type=_lines, default=DEFAULT_LINES, metavar="N"),
        opt("container", "Which container of the pod", type=_container, metavar="C"),
    ],
    roles=_roles("logs"),
    examples=("logs web", "logs web --previous", "logs web --lines 500 --container sidecar"),
    details=f"Secrets in the output are redacted. At most {MAX_LINES} lines; what does not fit in one "
    "message is attached as a file where the channel shows one.",
)
async def logs(ctx: CommandContext, args: Arguments) -> Reply:
    ctx.audit_target["app"] = args.app
    target = await directory(ctx).target(ctx)
    result = await _read(app_logs, target, args.app, args.lines, args.previous, args.container)
    limit = limit_for(ctx.turn.activity.channel_id)
    file_name = f"{result.pod}-{result.container}{'-previous' if result.previous else ''}.log"
    around = words.logs_body(result, (), words.left_out(len(result.lines), file_name))
    fitted = fit(result.lines, limit, file_name, around)
    footer = ""
    if fitted.left_out:
        footer = words.left_out(fitted.left_out, file_name if fitted.attachment else None)
    text = words.logs_body(result, fitted.lines, footer)
    return Reply(text, [fitted.attachment] if fitted.attachment else [])


@commands.command(
    "events",
    "Show the namespace's recent events, or one app's.",
    params=[arg("app", "Which app (its Deployment, ReplicaSets and pods)", type=_app, required=False)],
    roles=_roles("events"),
    examples=("events", "events web"),
)
async def events(ctx: CommandContext, args: Arguments) -> Reply:
    if args.app:
        ctx.audit_target["app"] = args.app
    target = await directory(ctx).target(ctx)
    text = words.events(await _read(recent_events, target, args.app))
    return fit_reply(text, ctx.turn.activity.channel_id, f"events-{args.app or target.namespace}.txt")


@commands.command(
    "describe",
    "Show an app in full: Deployment, ReplicaSets, pods, conditions and recent events.",
    params=[arg("app", "Which app", type=_app)],
    roles=_roles("describe"),
    examples=("describe web",),
)
async def describe(ctx: CommandContext, args: Arguments) -> str:
    ctx.audit_target["app"] = args.app
    target = await directory(ctx).target(ctx)
    return words.describe(await _read(describe_app, target, args.app))

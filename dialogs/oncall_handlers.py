"""What the on-call commands do (`dialogs.oncall` declares them): each reads the cluster (cluster.logs,
cluster.events, cluster.describe) and fits the result to the channel's message limit.

Imported when one of these commands first runs, so k8or starts without the libraries it uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from actions.blocking import call
from actions.errors import ClusterFailed
from bot.commands.grammar import Arguments
from bot.context import CommandContext, Reply
from bot.errors import K8orError
from cluster.apps import AppNotFound
from cluster.describe import describe_app
from cluster.events import recent_events
from cluster.logs import NoPods, NoPreviousInstance, NotScheduled, app_logs
from dialogs import oncall_messages as words
from dialogs.cluster_targets import directory
from dialogs.message_fit import fit, fit_reply, limit_for

P = ParamSpec("P")
T = TypeVar("T")


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


async def events(ctx: CommandContext, args: Arguments) -> Reply:
    if args.app:
        ctx.audit_target["app"] = args.app
    target = await directory(ctx).target(ctx)
    text = words.events(await _read(recent_events, target, args.app))
    return fit_reply(text, ctx.turn.activity.channel_id, f"events-{args.app or target.namespace}.txt")


async def describe(ctx: CommandContext, args: Arguments) -> str:
    ctx.audit_target["app"] = args.app
    target = await directory(ctx).target(ctx)
    return words.describe(await _read(describe_app, target, args.app))

"""What on-call reads first: `logs <app>`, `events [<app>]` and `describe <app>`.

Viewer commands on the conversation's cluster and namespace, like `status`. Each calls the cluster
library (cluster.logs, cluster.events, cluster.describe) and renders its result; the wording lives in
dialogs.oncall_messages, the channel's message limit in dialogs.message_fit.

This module declares the commands and their grammar; the handlers are in `dialogs.oncall_handlers`,
imported when one of them first runs.
"""

from __future__ import annotations

from bot.commands.grammar import arg, opt
from bot.commands.registry import CommandSet
from cluster import names
from cluster.errors import ClusterError
from policy.roles import DEFAULT_COMMAND_ROLES

commands = CommandSet(handlers="dialogs.oncall_handlers")


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
    """1 to names.MAX_LINES, refused while parsing with the bounds and an example."""
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= names.MAX_LINES:
        raise ValueError(f"{raw!r} is not a number of lines from 1 to {names.MAX_LINES} (e.g. `--lines 200`)")
    return value


_app.__name__, _container.__name__, _lines.__name__ = "app name", "container name", "number of lines"


def _roles(command: str) -> tuple[str, ...]:
    return (DEFAULT_COMMAND_ROLES[command],)


commands.declare(
    "logs",
    "Show the last lines of an app's failing (or newest) pod.",
    params=[
        arg("app", "Which app", type=_app),
        opt("previous", "The previous instance of a restarting container", flag=True),
        opt("lines", "How many lines", type=_lines, default=names.DEFAULT_LINES, metavar="N"),
        opt("container", "Which container of the pod", type=_container, metavar="C"),
    ],
    roles=_roles("logs"),
    examples=("logs web", "logs web --previous", "logs web --lines 500 --container sidecar"),
    details=f"Secrets in the output are redacted. At most {names.MAX_LINES} lines; what does not fit in one "
    "message is attached as a file where the channel shows one.",
)

commands.declare(
    "events",
    "Show the namespace's recent events, or one app's.",
    params=[arg("app", "Which app (its Deployment, ReplicaSets and pods)", type=_app, required=False)],
    roles=_roles("events"),
    examples=("events", "events web"),
)

commands.declare(
    "describe",
    "Show an app in full: Deployment, ReplicaSets, pods, conditions and recent events.",
    params=[arg("app", "Which app", type=_app)],
    roles=_roles("describe"),
    examples=("describe web",),
)

"""`notify`: a conversation subscribes to cluster trouble and gets alerts it can act on.

    notify on [--namespace NS ...] [--events crashloop,oomkilled,...|all] [--apps A,B]
    notify off [--namespace NS ...]
    notify list
    notify silence <app> [1h]

The subscription (with the conversation's reference, to speak first later) and everything sent are
kept by bot.alert_store; the watching and the messages are the AlertDesk's (actions.alerting).
Viewers may subscribe: alerts show what `status` shows them, and each action checks its own role.

This module declares the commands and their grammar; the handlers are in `dialogs.notify_handlers`,
imported when one of them first runs.
"""

from __future__ import annotations

from bot.alert_store import ALL
from bot.commands.grammar import arg, opt
from bot.commands.registry import CommandSet
from cluster.incidents import EVENT_KINDS
from dialogs.cluster import APP, NAMESPACE

commands = CommandSet(handlers="dialogs.notify_handlers")
ROLES = ("viewer",)
commands.declare(
    "notify on",
    "Get alerts here when apps crash-loop, are OOM-killed, cannot pull, cannot be scheduled, …",
    params=[
        opt(
            "namespace",
            "Which namespace (repeatable; default: this conversation's)",
            type=NAMESPACE,
            repeat=True,
        ),
        opt("events", "Which kinds: " + ",".join(EVENT_KINDS) + " or all", default=ALL),
        opt("apps", "Only these apps (comma-separated)", default=""),
    ],
    roles=ROLES,
    examples=("notify on", "notify on --namespace shop --events crashloop,oomkilled --apps web,api"),
)

commands.declare(
    "notify off",
    "Stop alerts in this conversation (for some namespaces, or all).",
    params=[opt("namespace", "Which namespace (repeatable; default: all)", type=NAMESPACE, repeat=True)],
    roles=ROLES,
    examples=("notify off", "notify off --namespace shop"),
)

commands.declare("notify list", "Show this conversation's alert subscriptions.", roles=ROLES)

commands.declare(
    "notify silence",
    "Open no new alerts for an app in this conversation for a while.",
    params=[
        arg("app", "Which app", type=APP),
        arg("duration", "How long (30m, 1h, 2d)", required=False, default="1h"),
    ],
    roles=ROLES,
    examples=("notify silence web", "notify silence web 4h"),
)

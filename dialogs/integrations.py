"""`integrate`, `resolve` and `freeze`: what an app's deploys and rollbacks tell the tools around it.

`integrate <app> jira|github|toggl|miro|calendar` turns a tool on for the app in the conversation's
cluster and namespace (stored by actions.integration_store); `integrate <app> off <tool>` turns it
off; `integrate <app>` lists them. The work itself is in actions.integrations, done as whoever runs
the deploy or rollback; this module also holds the three hooks the cluster commands call: before a
deploy (the freeze calendar), when a rollout starts, and when its follower ends.

This module declares the commands and their grammar; the handlers are in `dialogs.integrations_handlers`,
imported when one of them first runs.
"""

from __future__ import annotations

from actions.integration_store import TOOLS
from bot.commands.grammar import arg, opt, positive_int
from bot.commands.registry import CommandSet
from cluster import names
from cluster.errors import ClusterError
from policy.roles import DEFAULT_COMMAND_ROLES

commands = CommandSet(handlers="dialogs.integrations_handlers")
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


def _roles(command: str) -> tuple[str, ...]:
    return (DEFAULT_COMMAND_ROLES[command],)


commands.declare(
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

commands.declare(
    "resolve",
    "The incident is over: stop the Toggl Track entry your rollback of an app started.",
    params=[arg("app", "Which app", type=_app)],
    roles=_roles("resolve"),
    examples=("resolve web",),
)

commands.declare(
    "freeze calendar",
    "Refuse deploys into this namespace while its Google calendar has an event titled “…freeze…”.",
    params=[arg("calendar", "Which calendar id (or off)", type=_text)],
    roles=_roles("freeze calendar"),
    examples=("freeze calendar releases@group.calendar.google.com", "freeze calendar off"),
)

commands.declare(
    "freeze override",
    "Let deploys into this namespace go ahead during a freeze, for a while (on-call).",
    params=[opt("minutes", "For how long", type=positive_int, default=60)],
    roles=_roles("freeze override"),
    destructive=True,
    examples=("freeze override", "freeze override --minutes 30"),
)

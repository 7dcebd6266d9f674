"""An alert as a message: its text, and its actions as buttons (Teams: Adaptive Card Action.Submit;
Slack: the same card becomes Block Kit buttons in bot.slack) or, in a terminal, the lines to type.

Each button carries a command line and the alert's cluster and namespace (bot.text.button_command
and button_target), so pressing it runs that command through the normal turn: role, confirmation,
audit, live progress, at the place the alert came from.
"""

from __future__ import annotations

from botbuilder.core import CardFactory
from botbuilder.schema import Activity

from actions.alerting import AlertView
from bot.context import message
from cluster.incidents import CRASHLOOP, OOMKILLED
from dialogs import cards
from dialogs import notify_messages as say
from dialogs.message_fit import card_alone

CONSOLE = "console"


def alert_text(view: AlertView) -> str:
    inc = view.incident
    where = {"app": inc.app, "reason": inc.reason, "namespace": inc.namespace, "cluster": view.cluster}
    if inc.resolved:
        return say.RESOLVED.format(**where)
    parts = []
    if inc.pods:
        parts.append(say.PODS.format(count=len(inc.pods)))
    if inc.restarts:
        parts.append(say.RESTARTS.format(count=inc.restarts))
    if inc.detail:
        parts.append(inc.detail)
    if inc.note:
        parts.append(say.NOTE.format(note=inc.note))
    detail = (" — " + "; ".join(parts)) if parts else ""
    return (say.ALERT_AGAIN if view.again else say.ALERT).format(detail=detail, **where)


def action_lines(view: AlertView) -> list[tuple[str, str]]:
    """(button title, command line) for each action the alert offers."""
    inc = view.incident
    app = inc.app
    lines = []
    if view.rollback_to is not None:
        lines.append((say.ROLLBACK, f"rollback {app} --to-revision {view.rollback_to}"))
    previous = " --previous" if inc.event in (CRASHLOOP, OOMKILLED) else ""
    lines.append((say.LOGS, f"logs {app}{previous}"))
    lines.append((say.STATUS, f"status {app}" if inc.owner == "Deployment" else f"events {app}"))
    lines.append((say.SILENCE, f"notify silence {app} 1h"))
    return lines


def render_alert(view: AlertView) -> Activity:
    """The message for an alert: text plus a card with buttons (on Teams the card alone, the text as its
    summary); resolved alerts have no buttons."""
    text = alert_text(view)
    if view.incident.resolved:
        return message(text)
    lines = action_lines(view)
    if view.channel == CONSOLE:
        typed = ", ".join(f"`{line}`" for _, line in lines)
        return message(f"{text}\n{say.ACTIONS_TO_TYPE.format(lines=typed)}")
    pinned = {"k8or_cluster": view.cluster, "k8or_namespace": view.incident.namespace}
    card = cards.adaptive_card([cards.line(text)], fallback=cards.unmarked(text))
    card["actions"] = [
        {"type": "Action.Submit", "title": title, "data": {"k8or_command": line, **pinned}}
        for title, line in lines
    ]
    if card_alone(view.channel):  # Teams: the card says it; the summary is what notifications show
        activity = message("", [CardFactory.adaptive_card(card)])
        activity.summary = cards.unmarked(text)
        return activity
    return message(text, [CardFactory.adaptive_card(card)])  # Slack: the text is the notification

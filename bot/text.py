"""Turning what a channel sent into the command line a person meant."""

from __future__ import annotations

import html
import re
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.context import TargetRef

_TEAMS_MENTION = re.compile(r"<at[^>]*>.*?</at>", re.I | re.S)
_SLACK_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s:,]*")
_PLAIN_MENTION = re.compile(r"^\s*@\S+[\s:,]+")
_TAGS = re.compile(r"<[^>]+>")
# A message of exactly six ASCII digits is the code a sign-in page showed (see bot/signin/pending.py).
_SIGNIN_CODE = re.compile(r"[0-9]{6}")
SIGNIN_CODE_COMMAND = "login code"


# Channels turn straight quotes into typographic ones; the grammar wants straight ones.
_STRAIGHT_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})


def command_line(activity: Activity, bot_names: tuple[str, ...] = ("k8or",)) -> str:
    """The message text with the @-mention prefix of a group chat removed, as Teams and Slack send it.

    A message that is exactly six digits becomes `login code <digits>`: people paste the sign-in code
    on its own. Nothing else is rewritten (not `1234567`, not `12 3456`, not other scripts' digits)."""
    text = activity.text or button_command(activity.value)
    if activity.entities and activity.recipient:
        try:
            text = TurnContext.remove_recipient_mention(activity) or text
        except Exception:  # noqa: BLE001 - malformed mention entities must not break the turn
            pass
    text = _TEAMS_MENTION.sub(" ", text)
    text = _SLACK_MENTION.sub("", text)
    lowered = text.lstrip().lower()
    if any(lowered.startswith(f"@{name}") for name in bot_names):
        text = _PLAIN_MENTION.sub("", text, count=1)
    if "<" in text and ">" in text:
        text = _TAGS.sub(" ", text)  # Teams wraps messages in <p>…</p>
    text = html.unescape(text).replace("\u00a0", " ")
    text = text.translate(_STRAIGHT_QUOTES)
    text = text.strip()
    if _SIGNIN_CODE.fullmatch(text):
        return f"{SIGNIN_CODE_COMMAND} {text}"
    return text


def button_command(value: Any) -> str:
    """The command line a card button carries (`{"k8or_command": "status web"}`), else ""."""
    line = value.get("k8or_command") if isinstance(value, dict) else None
    return line if isinstance(line, str) else ""


def button_target(value: Any) -> TargetRef | None:
    """The cluster and namespace a card button pins its command to (an alert's, not whatever the
    conversation has chosen since), else None."""
    if not isinstance(value, dict) or not button_command(value):
        return None
    cluster, namespace = value.get("k8or_cluster"), value.get("k8or_namespace")
    if isinstance(cluster, str) and isinstance(namespace, str) and cluster and namespace:
        return TargetRef(cluster, namespace)
    return None

"""An Adaptive Card as Slack Block Kit, within Slack's block limits.

TextBlocks become section blocks (a bold, larger one a header), a FactSet one section of
`*title* value` lines, separators dividers, Action.Submit buttons an actions block whose values carry
the same data back through interactivity. Slack's limits (api.slack.com, Block Kit reference):
50 blocks per message, 3,000 characters per section text, 150 per header, 25 elements per actions
block, 75 characters per button text and 2,000 per button value. A text too long is split over
sections; blocks beyond the 50th are dropped with a last line that says how many (the message's
text, the fallback, has them all).
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_BLOCKS = 50
SECTION_TEXT = 3_000
HEADER_TEXT = 150
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2_000
MORE = "… {count} more lines in the message text."
_BOLD = re.compile(r"\*\*(.+?)\*\*")
Block = dict[str, Any]


def _mrkdwn(text: str) -> str:
    return _BOLD.sub(r"*\1*", text)


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _sections(text: str) -> list[Block]:
    """A text as sections of at most SECTION_TEXT characters, split between lines where it can."""
    chunks: list[str] = []
    for line in _mrkdwn(text).split("\n"):
        while len(line) > SECTION_TEXT:
            chunks.append(line[:SECTION_TEXT])
            line = line[SECTION_TEXT:]
        if chunks and len(chunks[-1]) + 1 + len(line) <= SECTION_TEXT:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks if c.strip()]


def _element(item: dict[str, Any]) -> list[Block]:
    kind = item.get("type")
    blocks: list[Block] = [{"type": "divider"}] if item.get("separator") else []
    if kind == "TextBlock" and item.get("weight") == "Bolder" and item.get("size") in ("Medium", "Large"):
        text = str(item.get("text", "")).replace("**", "")
        return blocks + [{"type": "header", "text": {"type": "plain_text", "text": _clip(text, HEADER_TEXT)}}]
    if kind == "TextBlock":
        text = str(item.get("text", ""))
        return blocks + _sections(f"**{text}**" if item.get("weight") == "Bolder" else text)
    if kind == "FactSet":
        lines = [f"**{f.get('title', '')}** {f.get('value', '')}" for f in item.get("facts", [])]
        return blocks + _sections("\n".join(lines))
    if kind in ("Container", "Column"):
        return blocks + [b for child in item.get("items", []) for b in _element(child)]
    return blocks


def _buttons(actions: list[dict[str, Any]]) -> list[Block]:
    """Submit buttons; one whose data would not fit a button's value is left out (never cut short)."""
    submits = [a for a in actions if a.get("type") == "Action.Submit"]
    values = [(a, json.dumps(a.get("data", {}))) for a in submits]
    fitting = [(a, value) for a, value in values if len(value) <= BUTTON_VALUE][:ACTIONS_ELEMENTS]
    elements = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": _clip(str(a.get("title", "OK")), BUTTON_TEXT)},
            "action_id": f"k8or-{i}",
            "value": value,
        }
        for i, (a, value) in enumerate(fitting)
    ]
    return [{"type": "actions", "elements": elements}] if elements else []


def blocks_from_card(card: dict[str, Any]) -> list[Block]:
    """The card as Block Kit blocks that Slack accepts: at most MAX_BLOCKS, buttons kept last."""
    body = [b for item in card.get("body", []) if isinstance(item, dict) for b in _element(item)]
    if body and body[0]["type"] == "divider":
        body = body[1:]
    buttons = _buttons(card.get("actions", []))
    room = MAX_BLOCKS - len(buttons)
    if len(body) > room:
        cut = body[room - 1 :]
        lines = sum(b["text"]["text"].count("\n") + 1 for b in cut if b["type"] == "section")
        more = {"type": "context", "elements": [{"type": "mrkdwn", "text": MORE.format(count=lines)}]}
        body = body[: room - 1] + [more]
    return body + buttons

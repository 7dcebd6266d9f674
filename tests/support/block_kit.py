"""Slack's Block Kit limits for a message (api.slack.com, Block Kit reference), checked on its own,
apart from the code that builds the blocks: what Slack would refuse with `invalid_blocks`."""

from __future__ import annotations

from typing import Any

LIMITS = {
    "blocks": 50,
    "section.text": 3_000,
    "section.fields": 10,
    "section.field": 2_000,
    "header.text": 150,
    "context.elements": 10,
    "context.element": 2_000,
    "actions.elements": 25,
    "button.text": 75,
    "button.value": 2_000,
    "action_id": 255,
}
KNOWN = {"section", "header", "divider", "context", "actions"}


def _section(block: dict[str, Any]) -> list[str]:
    problems = []
    text = block.get("text", {}).get("text", "")
    if not text and not block.get("fields"):
        problems.append("a section with neither text nor fields")
    if len(text) > LIMITS["section.text"]:
        problems.append(f"section text of {len(text)} characters")
    fields = block.get("fields", [])
    if len(fields) > LIMITS["section.fields"] or any(
        len(f["text"]) > LIMITS["section.field"] for f in fields
    ):
        problems.append("section fields over the limit")
    return problems


def _other(block: dict[str, Any]) -> list[str]:
    kind, problems = block["type"], []
    if kind == "header" and (block["text"]["type"] != "plain_text" or len(block["text"]["text"]) > 150):
        problems.append("a header that is not plain text of at most 150 characters")
    if kind == "context":
        elements = block["elements"]
        if len(elements) > LIMITS["context.elements"] or any(
            len(e["text"]) > LIMITS["context.element"] for e in elements
        ):
            problems.append("context elements over the limit")
    if kind == "actions":
        elements = block["elements"]
        if not 1 <= len(elements) <= LIMITS["actions.elements"]:
            problems.append(f"an actions block of {len(elements)} elements")
        for e in elements:
            if (
                len(e["text"]["text"]) > LIMITS["button.text"]
                or len(e.get("value", "")) > LIMITS["button.value"]
            ):
                problems.append(f"button {e['text']['text'][:20]!r} over the limit")
            if len(e.get("action_id", "")) > LIMITS["action_id"]:
                problems.append("an action_id over 255 characters")
    return problems


def block_kit_problems(blocks: list[dict[str, Any]]) -> list[str]:
    """Everything in `blocks` that Slack would refuse; [] when the message is acceptable."""
    problems = [] if len(blocks) <= LIMITS["blocks"] else [f"{len(blocks)} blocks (at most 50)"]
    for block in blocks:
        if block.get("type") not in KNOWN:
            problems.append(f"a block of type {block.get('type')!r}")
        elif block["type"] == "section":
            problems += _section(block)
        else:
            problems += _other(block)
    return problems

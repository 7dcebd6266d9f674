"""Replies as Adaptive Cards (Teams and every Bot Framework channel; Slack draws them as Block Kit in
bot.slack.blocks): `status`, `rollback <app>` (its revisions) and the k8orize summary.

Each card is a rendering of the same data as the text reply, with the same wording
(dialogs.cluster_render); the text stays in the message as the fallback, and the console gets the
text alone. Cards are Adaptive Card 1.5 (tests/browser/ validates them against Microsoft's schema and
draws them with Microsoft's renderer). Card markdown has no code spans, so backticks are dropped.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory
from botbuilder.schema import Attachment

from bot.context import Reply
from cluster.rollback import Revision
from cluster.status import AppStatus, NamespaceStatus
from dialogs import cluster_render as render
from dialogs.message_fit import fit_reply

VERSION = "1.5"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CONSOLE = "console"
Card = dict[str, Any]


def plain(text: str) -> str:
    """k8or's markdown as card markdown: bold and lists stay, code spans lose their backticks."""
    return text.replace("`", "")


def unmarked(text: str) -> str:
    """k8or's markdown as plain text, as a notification or an activity feed shows it."""
    return plain(text).replace("**", "")


def adaptive_card(body: list[Card], fallback: str) -> Card:
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body,
        "fallbackText": fallback,
    }


def heading(text: str) -> Card:
    return {"type": "TextBlock", "text": plain(text), "weight": "Bolder", "size": "Medium", "wrap": True}


def line(text: str, *, attention: bool = False, subtle: bool = False) -> Card:
    block: Card = {"type": "TextBlock", "text": plain(text), "wrap": True, "spacing": "Small"}
    if attention:
        block["color"] = "Attention"
    if subtle:
        block["isSubtle"] = True
    return block


def section(title: str, lines: list[str]) -> list[Card]:
    """A titled run of lines (pods, warnings), or nothing when there are none."""
    if not lines:
        return []
    head = {"type": "TextBlock", "text": plain(title), "weight": "Bolder", "wrap": True, "separator": True}
    return [head, *(line(text) for text in lines)]


def facts(pairs: list[tuple[str, str]]) -> Card:
    return {"type": "FactSet", "facts": [{"title": plain(t), "value": plain(v)} for t, v in pairs]}


def app_card(s: AppStatus) -> Card:
    """`status <app>`: the counts as facts, the rollout, the pods and the recent warnings."""
    body = [
        heading(s.name),
        facts(
            [
                ("Available", f"{min(s.available, s.desired)}/{s.desired}"),
                ("Updated", str(s.updated)),
                ("Revision", s.revision or "not numbered yet"),
                ("Image", s.image),
                ("Pods", s.phases),
                ("Restarts", str(s.restarts)),
                ("Age", s.age),
            ]
        ),
    ]
    if note := render.rollout_note(s):
        body.append(line(note, attention=note.startswith("✗")))
    body += section("Pods", [render.pod_line(p).removeprefix("- ") for p in s.pods])
    body += section("Recent warnings", [w.line for w in s.warnings])
    return adaptive_card(body, render.app(s))


def namespace_card(ns: NamespaceStatus) -> Card:
    """`status`: one line per app, the unhealthy ones marked, then the namespace's warnings."""
    text = render.namespace(ns)
    if ns.missing or not ns.apps:
        return adaptive_card([line(text)], text)
    healthy = sum(a.healthy for a in ns.apps)
    body = [heading(f"{ns.namespace} on {ns.cluster}: {healthy}/{len(ns.apps)} apps healthy")]
    body += [line(render.namespace_app_line(a), attention=not a.healthy) for a in ns.apps]
    body += section("Recent warnings", [w.line for w in ns.warnings])
    return adaptive_card(body, text)


def revisions_card(app_name: str, items: list[Revision]) -> Card:
    """`rollback <app>`: newest revision first, the current one marked, and how to go back."""
    pairs = [(f"{r.number}" + (" (current)" if r.current else ""), f"{r.image}, {r.age} old") for r in items]
    body = [heading(f"Revisions of {app_name}"), facts(list(reversed(pairs)))]
    body.append(line(f"Roll back with: rollback {app_name} --to-revision N", subtle=True))
    return adaptive_card(body, render.revisions(app_name, items))


def text_card(text: str) -> Card:
    """A summary written as k8or's markdown (a **headline**, paragraphs, `- ` items) as a card."""
    body: list[Card] = []
    gap = False
    for raw in text.split("\n"):
        if not raw.strip():
            gap = True
            continue
        if not body and raw.startswith("**"):
            block = heading(raw.replace("**", ""))
        else:
            block = line(raw, attention=raw.startswith("- FAILED"))
        if gap:
            block["separator"] = True
        body.append(block)
        gap = False
    return adaptive_card(body, text)


def attachment(card: Card) -> Attachment:
    return CardFactory.adaptive_card(card)


def card_reply(channel_id: str | None, text: str, card: Card, file_name: str, hint: str = "") -> Reply:
    """The text, with its card where the channel shows cards; fitted to the channel's message limit."""
    cards = [] if channel_id == CONSOLE else [attachment(card)]
    return fit_reply(text, channel_id, file_name, cards, hint)


def status_reply(channel_id: str | None, s: AppStatus) -> Reply:
    return card_reply(channel_id, render.app(s), app_card(s), f"status-{s.name}.txt")


def namespace_reply(channel_id: str | None, ns: NamespaceStatus) -> Reply:
    if ns.missing or not ns.apps:  # one sentence: a card would only say it twice
        return Reply(render.namespace(ns))
    hint = "ask for one app with `status <app>`"
    return card_reply(
        channel_id, render.namespace(ns), namespace_card(ns), f"status-{ns.namespace}.txt", hint
    )


def revisions_reply(channel_id: str | None, app_name: str, items: list[Revision]) -> Reply:
    text = render.revisions(app_name, items)
    return card_reply(channel_id, text, revisions_card(app_name, items), f"revisions-{app_name}.txt")

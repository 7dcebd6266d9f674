"""How much one message may carry on each channel, and fitting long text into it.

- Microsoft Teams refuses a bot message above its size limit with 413 MessageSizeTooBig, counting
  the whole activity encoded as UTF-16 (learn.microsoft.com, "Format your bot messages"); 28 KB is
  the long-standing figure and the tightest one published, so k8or keeps to it.
- Slack truncates `text` beyond 40,000 characters (api.slack.com, chat.postMessage).
- The terminal has no limit. A channel k8or does not know gets the tightest known limit.

Logs that do not fit keep their newest lines (`fit`); a listing (`status` of a namespace, `audit`,
`events`, newest first) keeps its head (`fit_reply`), and a card that would not fit beside its text is
left out (the text is its fallback). The whole text goes as a file attachment where the channel shows
one from the message itself (a data URL, as `k8orize` sends its picture), and on Slack, whose adapter
uploads it beside the reply (`files_upload_v2`, bot.slack.adapter). Teams takes only images that way,
so there the reply says what was left out.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from botbuilder.schema import Attachment

from bot.context import Reply

ENVELOPE = 2_000  # room left for the activity's own fields, the header and the footer
LISTING_LEFT_OUT = "… and {left} more lines not shown{hint}."
LISTING_ATTACHED = "… and {left} more lines: the whole reply is attached as `{name}`."


def _utf16_bytes(text: str) -> int:
    return len(text.encode("utf-16-le"))


@dataclass(frozen=True)
class MessageLimit:
    """A channel's limit on one message, measured the channel's way."""

    size: int | None  # None: no limit
    measure: Callable[[str], int] = len
    files: bool = True  # shows a text file sent with the message (a data URL; Slack: uploaded beside it)

    def fits(self, text: str) -> bool:
        return self.size is None or self.measure(text) <= self.size - ENVELOPE


TEAMS = MessageLimit(28_000, _utf16_bytes, files=False)
SLACK = MessageLimit(40_000, len)
UNLIMITED = MessageLimit(None)
TEAMS_CHANNEL = "msteams"
LIMITS = {TEAMS_CHANNEL: TEAMS, "slack": SLACK, "console": UNLIMITED}


def card_alone(channel_id: str | None) -> bool:
    """Whether a message with a card goes without its text: Teams draws the text above the card, so
    the same words would show twice (the card carries them, and its fallbackText for clients that
    draw no cards)."""
    return channel_id == TEAMS_CHANNEL


def limit_for(channel_id: str | None) -> MessageLimit:
    """The channel's limit; an unknown channel gets the tightest known one."""
    return LIMITS.get(channel_id or "", MessageLimit(TEAMS.size, _utf16_bytes))


@dataclass(frozen=True)
class Fitted:
    """The lines that fit, how many were left out, and the whole text as a file when one can go."""

    lines: tuple[str, ...]
    left_out: int
    attachment: Attachment | None = None


def newest_lines(lines: tuple[str, ...], limit: MessageLimit, around: str = "") -> tuple[str, ...]:
    """The longest tail of `lines` that fits the limit together with `around` (header and footer)."""
    if limit.size is None:
        return lines
    budget = limit.size - ENVELOPE - limit.measure(around)
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        cost = limit.measure(line) + limit.measure("\n")
        if used + cost > budget:
            break
        kept.append(line)
        used += cost
    return tuple(reversed(kept))


def text_file(name: str, text: str) -> Attachment:
    """A text file carried in the message itself."""
    data = base64.b64encode(text.encode()).decode("ascii")
    return Attachment(content_type="text/plain", content_url=f"data:text/plain;base64,{data}", name=name)


def fit(lines: tuple[str, ...], limit: MessageLimit, file_name: str, around: str = "") -> Fitted:
    """The newest lines that fit; when some are left out, the whole text as `file_name` if the
    channel shows such a file."""
    kept = newest_lines(lines, limit, around)
    left_out = len(lines) - len(kept)
    if not left_out:
        return Fitted(kept, 0)
    attachment = text_file(file_name, "\n".join(lines) + "\n") if limit.files else None
    return Fitted(kept, left_out, attachment)


def first_lines(lines: tuple[str, ...], limit: MessageLimit, around: str = "") -> tuple[str, ...]:
    """The longest head of `lines` that fits the limit together with `around`."""
    return tuple(reversed(newest_lines(tuple(reversed(lines)), limit, around)))


def _listing_footer(left: int, file_name: str | None, hint: str) -> str:
    if file_name:
        return LISTING_ATTACHED.format(left=left, name=file_name)
    return LISTING_LEFT_OUT.format(left=left, hint=f" ({hint})" if hint else "")


def fit_reply(
    text: str, channel_id: str | None, file_name: str, cards: Sequence[Attachment] = (), hint: str = ""
) -> Reply:
    """A listing as one message of the channel: with its cards when they fit beside it, else the text
    alone; a text too long keeps its first line and as many of the next as fit, says how many were
    left out (with `hint`, how to ask for less), and goes whole as `file_name` where a file can go."""
    limit = limit_for(channel_id)
    card_text = "".join(json.dumps(card.content, ensure_ascii=False) for card in cards)
    if limit.fits(text + card_text):
        return Reply("" if cards and card_alone(channel_id) else text, list(cards))
    if limit.fits(text):
        return Reply(text)
    head, *body = text.split("\n")
    name = file_name if limit.files else None
    widest = _listing_footer(len(body), name, hint)
    kept = first_lines(tuple(body), limit, around=f"{head}\n{widest}")
    footer = _listing_footer(len(body) - len(kept), name, hint)
    attachment = [text_file(file_name, text + "\n")] if name else []
    return Reply("\n".join([head, *kept, footer]), attachment)

"""How much one message may carry on each channel, and fitting long text into it.

- Microsoft Teams refuses a bot message above its size limit with 413 MessageSizeTooBig, counting
  the whole activity encoded as UTF-16 (learn.microsoft.com, "Format your bot messages"); 28 KB is
  the long-standing figure and the tightest one published, so k8or keeps to it.
- Slack truncates `text` beyond 40,000 characters (api.slack.com, chat.postMessage).
- The terminal has no limit. A channel k8or does not know gets the tightest known limit.

Text that does not fit keeps its newest lines; the whole of it goes as a file attachment where the
channel shows one from the message itself (a data URL, as `k8orize` sends its picture). Teams takes
only images that way and k8or's Slack adapter posts text only, so there the reply says what was left out.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

from botbuilder.schema import Attachment

ENVELOPE = 2_000  # room left for the activity's own fields, the header and the footer


def _utf16_bytes(text: str) -> int:
    return len(text.encode("utf-16-le"))


@dataclass(frozen=True)
class MessageLimit:
    """A channel's limit on one message, measured the channel's way."""

    size: int | None  # None: no limit
    measure: Callable[[str], int] = len
    files: bool = True  # shows a text file attached as a data URL

    def fits(self, text: str) -> bool:
        return self.size is None or self.measure(text) <= self.size - ENVELOPE


TEAMS = MessageLimit(28_000, _utf16_bytes, files=False)
SLACK = MessageLimit(40_000, len, files=False)
UNLIMITED = MessageLimit(None)
LIMITS = {"msteams": TEAMS, "slack": SLACK, "console": UNLIMITED}


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

"""`k8or chat`: the same bot, handler and state, in a terminal.

A `BotAdapter` whose channel is stdout: replies are printed, an edited message is reprinted
in place of the old one, and a destructive command is confirmed by typing `yes`.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    ResourceResponse,
)

from bot.pipeline import K8orBot
from bot.signin.outbox import SignInOutbox

CHANNEL = "console"


def console_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return "operator"


def console_key(user: str) -> str:
    return f"{CHANNEL}:{user}"


class ConsoleAdapter(BotAdapter):
    """Prints replies; `update_activity` reprints the edited message, marked as an update."""

    def __init__(self, out: TextIO | None = None):
        super().__init__()
        self.out = out or sys.stdout
        self.sent: list[Activity] = []

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        responses = []
        for activity in activities:
            if activity.type == ActivityTypes.message:
                self.sent.append(activity)
                self.show(activity, edited=False)
            responses.append(ResourceResponse(id=uuid.uuid4().hex))
        return responses

    async def update_activity(self, context: TurnContext, activity: Activity) -> ResourceResponse:
        self.sent.append(activity)
        self.show(activity, edited=True)
        return ResourceResponse(id=activity.id)

    def show(self, activity: Activity, edited: bool) -> None:
        """Write one message (or the new text of an edited one) to the terminal."""
        self._print(("↻ " if edited else "") + render(activity))

    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        return None

    async def continue_conversation(
        self, reference: Any, callback: Callable[..., Awaitable], *args: Any, **kw: Any
    ):  # type: ignore[no-untyped-def]
        activity = TurnContext.apply_conversation_reference(
            Activity(type=ActivityTypes.event), reference, True
        )
        return await self.run_pipeline(TurnContext(self, activity), callback)

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def render(activity: Activity) -> str:
    """Text for the terminal: the message, card texts and the choices offered as buttons."""
    parts = [activity.text or ""]
    for attachment in activity.attachments or ():
        parts += _card_lines(attachment.content)
        if attachment.content_url:
            parts.append(f"[{attachment.name or 'attachment'}: {attachment.content_url}]")
    actions = activity.suggested_actions.actions if activity.suggested_actions else []
    if actions:
        parts.append("choices: " + ", ".join(a.title or str(a.value) for a in actions))
    return "k8or> " + "\n".join(p for p in parts if p)


def _card_lines(content: Any) -> list[str]:
    if isinstance(content, dict):  # Adaptive Card
        return [b.get("text", "") for b in content.get("body", []) if isinstance(b, dict)]
    lines = [getattr(content, "title", None) or "", getattr(content, "text", None) or ""]
    buttons = getattr(content, "buttons", None) or []
    if buttons:
        lines.append("choices: " + ", ".join(b.title or str(b.value) for b in buttons))
    return lines


class ConsoleSession:
    """One person's conversation with the bot at this terminal."""

    def __init__(self, bot: K8orBot, adapter: ConsoleAdapter, user: str | None = None):
        self.bot = bot
        self.adapter = adapter
        self.user = user or console_user()
        self.conversation = f"console-{self.user}"

    async def say(self, text: str) -> None:
        """Run one turn for `text`, exactly as a channel message would."""
        activity = Activity(
            type=ActivityTypes.message,
            id=uuid.uuid4().hex,
            channel_id=CHANNEL,
            service_url="console://local",
            conversation=ConversationAccount(id=self.conversation, is_group=False),
            from_property=ChannelAccount(id=self.user, name=self.user),
            recipient=ChannelAccount(id="k8or", name="k8or"),
            text=text,
        )
        await self.adapter.run_pipeline(TurnContext(self.adapter, activity), self.bot.on_turn)

    async def relay_signins(self, outbox: SignInOutbox, every: float = 1.0) -> None:
        """Show sign-in outcomes that another process (`k8or serve`, whose pages the person used) left
        for this terminal, until cancelled."""
        while True:
            for text in await outbox.take(console_key(self.user)):
                self.adapter.show(Activity(type=ActivityTypes.message, text=text), edited=False)
            await asyncio.sleep(every)

    async def repl(self, stdin: TextIO | None = None) -> None:
        stdin = stdin or sys.stdin
        interactive = stdin.isatty()
        loop = asyncio.get_running_loop()
        if interactive:
            print("k8or chat — type `help`, or Ctrl-D to leave.", file=self.adapter.out)
        while True:
            if interactive:
                print("you> ", end="", file=self.adapter.out, flush=True)
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            if line.strip():
                await self.say(line.rstrip("\n"))
        await self.bot.services.tracker.idle()

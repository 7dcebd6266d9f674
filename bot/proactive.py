"""Messages k8or starts: sent into, and edited in, a conversation nobody is talking in right now.

The same path a job's progress takes after its turn (bot.jobs.resume): the stored conversation
reference is continued through its channel's adapter (`continue_conversation`: Bot Framework's
CloudAdapter for Teams and the other Bot Framework channels, the Slack adapter's chat.postMessage
and chat.update for Slack), and inside that continued turn the message is sent or updated.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ConversationReference

from bot.services import Services
from bot.wire import from_wire


class Undeliverable(Exception):
    """The conversation cannot be reached: no adapter for its channel, or the channel refused."""


class ProactiveMessages:
    """Send and edit messages in stored conversations."""

    def __init__(self, services: Services):
        self._services = services

    def _adapter(self, reference: ConversationReference) -> BotAdapter:
        direct = self._services.direct
        adapter = direct.adapters.get(reference.channel_id or "", direct.default_adapter) if direct else None
        if adapter is None:
            raise Undeliverable(f"no adapter for channel {reference.channel_id!r}")
        return adapter

    async def _continue(self, wire: dict[str, Any], act: Any) -> None:
        reference = from_wire(ConversationReference, wire)
        app_id = self._services.settings.microsoft_app_id or None
        try:
            await self._adapter(reference).continue_conversation(reference, act, app_id)
        except Undeliverable:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the channel raised, the caller counts it
            raise Undeliverable(f"{type(exc).__name__}: {exc}") from exc

    async def send(self, reference: dict[str, Any], activity: Activity) -> str:
        """Send `activity` into the conversation; the id the channel gave it (to edit it later)."""
        sent: list[str] = []

        async def act(turn: TurnContext) -> None:
            response = await turn.send_activity(activity)
            sent.append(getattr(response, "id", None) or "")

        await self._continue(reference, act)
        return sent[0] if sent else ""

    async def update(self, reference: dict[str, Any], activity_id: str, activity: Activity) -> None:
        """Replace the message `activity_id` with `activity`."""
        activity.id = activity_id

        async def act(turn: TurnContext) -> None:
            await turn.update_activity(activity)

        await self._continue(reference, act)

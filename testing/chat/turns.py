"""Whole turns in memory: the real pipeline, storage and dialogs, with a recording channel.

async with TurnHarness.open(tmp_path, [dialogs.core.commands]) as bot:
    replies = await bot.say("help")
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ResourceResponse,
)

from bot.app import AppParts, build_services, close_services
from bot.commands.registry import CommandRegistry, CommandSet
from bot.console import render
from bot.pipeline import K8orBot
from bot.roles import RoleResolver
from bot.services import Services
from bot.settings import Settings
from testing.chat.channel import proven_turn


class RecordingAdapter(BotAdapter):
    """A channel that keeps every message, and applies edits to the message they edit."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: dict[str, Activity] = {}
        self.order: list[str] = []
        self.updates: list[Activity] = []

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        responses = []
        for activity in activities:
            activity_id = uuid.uuid4().hex
            if activity.type == ActivityTypes.message:
                activity.conversation = activity.conversation or context.activity.conversation
                self.messages[activity_id] = activity
                self.order.append(activity_id)
            responses.append(ResourceResponse(id=activity_id))
        return responses

    async def update_activity(self, context: TurnContext, activity: Activity) -> ResourceResponse:
        assert activity.id in self.messages, "update of a message that was never sent"
        self.messages[activity.id] = activity
        self.updates.append(activity)
        return ResourceResponse(id=activity.id)

    async def delete_activity(self, context: TurnContext, reference: Any) -> None:
        self.messages.pop(reference.activity_id, None)

    async def continue_conversation(self, reference: Any, callback: Any, *args: Any, **kwargs: Any) -> None:
        """Proactive messages land here too, marked with the conversation they went to."""
        activity = TurnContext.apply_conversation_reference(
            Activity(type=ActivityTypes.event), reference, True
        )
        await self.run_pipeline(TurnContext(self, activity), callback)

    def texts_in(self, conversation: str) -> list[str]:
        return [
            render(self.messages[i]).removeprefix("k8or> ")
            for i in self.order
            if self.messages[i].conversation and self.messages[i].conversation.id == conversation
        ]

    def texts(self, since: int = 0) -> list[str]:
        return [
            render(self.messages[i]).removeprefix("k8or> ") for i in self.order[since:] if i in self.messages
        ]


@dataclass
class TurnHarness:
    bot: K8orBot
    adapter: RecordingAdapter
    services: Services
    conversation: str = "conv-1"
    channel: str = "msteams"
    users: dict[str, ChannelAccount] = field(default_factory=dict)

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        tmp_path: Path,
        command_sets: Iterable[CommandSet],
        *,
        roles: RoleResolver | None = None,
        database_url: str | None = None,
        database_schema: str = "",
        **settings: Any,
    ) -> AsyncIterator[TurnHarness]:
        registry = CommandRegistry()
        for commands in command_sets:
            registry.include(commands)
        url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'k8or.db'}"
        config = Settings(data_dir=tmp_path, database_url=url, database_schema=database_schema, **settings)
        services = await build_services(config, AppParts(registry=registry, roles=roles))
        try:
            yield cls(bot=K8orBot(services), adapter=RecordingAdapter(), services=services)
        finally:
            await close_services(services)

    async def say(
        self,
        text: str | None,
        *,
        user: str = "alice",
        value: Any = None,
        activity_id: str | None = None,
        is_group: bool = False,
        channel_data: dict[str, Any] | None = None,
        channel: str | None = None,
        conversation: str | None = None,
    ) -> list[str]:
        """Run one turn as `user`; return the texts of the messages it sent."""
        before = len(self.adapter.order)
        activity = Activity(
            type=ActivityTypes.message,
            id=activity_id or uuid.uuid4().hex,
            channel_id=channel or self.channel,
            service_url="https://smba.example/",
            conversation=ConversationAccount(id=conversation or self.conversation, is_group=is_group),
            from_property=ChannelAccount(id=user, name=user.title(), aad_object_id=f"aad-{user}"),
            recipient=ChannelAccount(id="k8or", name="k8or"),
            text=text,
            value=value,
            channel_data=channel_data,
        )
        await self.adapter.run_pipeline(proven_turn(self.adapter, activity), self.bot.on_turn)
        return self.adapter.texts(before)

    async def settle(self) -> None:
        """Wait for background work the turns started (rollouts being followed)."""
        await self.services.tracker.idle()

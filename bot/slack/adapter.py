"""Replies to Slack through the Web API (slack_sdk's AsyncWebClient).

A message becomes `chat.postMessage` in the thread it answers; an edit (`update_activity`, for
live progress) becomes `chat.update`; a confirmation card becomes buttons (Block Kit) whose values
come back through interactivity. A text file sent with a message (the whole of a listing too long for
one: dialogs.message_fit) is uploaded beside it with `files_upload_v2`; when Slack refuses it (an app
installed without `files:write`), a second message says so.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ConversationReference, ResourceResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.slack.blocks import blocks_from_card

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_TEXT_FILE = "data:text/plain;base64,"
log = logging.getLogger(__name__)


def mrkdwn(text: str) -> str:
    """Markdown as k8or writes it, in Slack's dialect."""
    return _BOLD.sub(r"*\1*", text)


def _target(activity: Activity) -> tuple[str, str]:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    channel = data.get("channel") or (
        activity.conversation.id.split(":", 1)[-1] if activity.conversation else ""
    )
    return channel, data.get("thread_ts", "")


def blocks_for(activity: Activity) -> list[dict[str, Any]] | None:
    """The first Adaptive Card as Block Kit, within Slack's limits; its Action.Submit buttons carry the
    same data (bot.slack.blocks)."""
    for attachment in activity.attachments or ():
        content = attachment.content if isinstance(attachment.content, dict) else {}
        if content.get("type") == "AdaptiveCard":
            return blocks_from_card(content)
    return None


def text_files(activity: Activity) -> Iterator[tuple[str, str]]:
    """(name, text) of each text file the message carries in itself (dialogs.message_fit.text_file)."""
    for attachment in activity.attachments or ():
        url = attachment.content_url or ""
        if attachment.content_type == "text/plain" and url.startswith(_TEXT_FILE):
            try:
                text = base64.b64decode(url[len(_TEXT_FILE) :], validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                continue
            yield attachment.name or "reply.txt", text


class SlackAdapter(BotAdapter):
    def __init__(self, client: AsyncWebClient):
        super().__init__()
        self.client = client

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        responses = []
        for activity in activities:
            if activity.type != ActivityTypes.message:
                responses.append(ResourceResponse())
                continue
            channel, thread = _target(context.activity)
            result = await self.client.chat_postMessage(
                channel=channel,
                text=mrkdwn(activity.text or ""),
                blocks=blocks_for(activity),
                thread_ts=thread or None,
            )
            responses.append(ResourceResponse(id=f"{result['channel']}|{result['ts']}"))
            for name, text in text_files(activity):
                await self._upload(result["channel"], thread, name, text)
        return responses

    async def _upload(self, channel: str, thread: str, name: str, text: str) -> None:
        """The file beside the message it completes; a refusal or a failed upload is said there."""
        try:
            await self.client.files_upload_v2(
                channel=channel, thread_ts=thread or None, filename=name, title=name, content=text
            )
            return
        except SlackApiError as exc:
            error, needed = str(exc.response.get("error", "")), str(exc.response.get("needed", ""))
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            error, needed = f"the upload failed: {type(exc).__name__}", ""
        log.warning("Slack did not take a file", extra={"file": name, "error": error})
        refused = messages.SLACK_FILE_REFUSED.format(name=name, error=error or "no answer")
        if "files:write" in needed:
            refused += messages.SLACK_FILE_SCOPE
        await self.client.chat_postMessage(channel=channel, text=mrkdwn(refused), thread_ts=thread or None)

    async def update_activity(self, context: TurnContext, activity: Activity) -> ResourceResponse:
        channel, ts = (activity.id or "|").split("|", 1)
        # Slack keeps a message's old blocks unless the edit names new ones ([] removes them).
        blocks = blocks_for(activity) or []
        await self.client.chat_update(channel=channel, ts=ts, text=mrkdwn(activity.text or ""), blocks=blocks)
        return ResourceResponse(id=activity.id)

    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        channel, ts = (reference.activity_id or "|").split("|", 1)
        await self.client.chat_delete(channel=channel, ts=ts)

    async def send_private(self, context: TurnContext, text: str) -> None:
        """Only the person sees it: an ephemeral message in the same channel."""
        channel, thread = _target(context.activity)
        await self.client.chat_postEphemeral(
            channel=channel,
            user=context.activity.from_property.id,
            text=mrkdwn(text),
            thread_ts=thread or None,
        )

    async def continue_conversation(  # type: ignore[override]
        self,
        reference: ConversationReference,
        callback: Callable[[TurnContext], Awaitable[Any]],
        *_: Any,
        **__: Any,
    ) -> None:
        activity = TurnContext.apply_conversation_reference(
            Activity(type=ActivityTypes.event), reference, True
        )
        channel = (reference.conversation.id if reference.conversation else "").split(":", 1)[-1]
        activity.channel_data = {"channel": channel, "thread_ts": ""}
        await self.run_pipeline(TurnContext(self, activity), callback)

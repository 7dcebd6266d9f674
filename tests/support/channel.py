"""A Bot Framework channel on port 0: the bot's replies land here (its `serviceUrl`).

It implements the Bot Connector REST calls the SDK makes for replies and edits:
  POST /v3/conversations/{conversationId}/activities/{activityId}   reply to an activity
  POST /v3/conversations/{conversationId}/activities                send to a conversation
  PUT  /v3/conversations/{conversationId}/activities/{activityId}   update an activity
Each answers a `ResourceResponse` ({"id": ...}) as the Bot Connector API documents.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class RecordedCall:
    method: str
    conversation: str
    activity_id: str | None
    body: dict[str, Any]
    authorization: str


@dataclass
class FakeChannel:
    calls: list[RecordedCall] = field(default_factory=list)
    delay: float = 0.0
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _arrived: asyncio.Condition | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._record)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._record)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._record)
        return app

    async def _record(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        body = await request.json()
        call = RecordedCall(
            method=request.method,
            conversation=request.match_info["conversation"],
            activity_id=request.match_info.get("activity"),
            body=body,
            authorization=request.headers.get("Authorization", ""),
        )
        self.calls.append(call)
        if self._arrived is None:
            self._arrived = asyncio.Condition()
        async with self._arrived:
            self._arrived.notify_all()
        reply_id = call.activity_id if request.method == "PUT" else f"reply-{next(self._ids)}"
        return web.json_response({"id": reply_id})

    @property
    def texts(self) -> list[str]:
        return [c.body.get("text") or "" for c in self.calls]

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedCall]:
        if self._arrived is None:
            self._arrived = asyncio.Condition()
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.calls) >= count), timeout)
        return self.calls


def message(
    text: str,
    service_url: str,
    *,
    activity_id: str = "act-1",
    conversation: str = "conv-1",
    channel: str = "emulator",
    user: str = "alice",
    **extra: Any,
) -> dict[str, Any]:
    """An incoming message activity as a channel posts it to /api/messages."""
    return {
        "type": "message",
        "id": activity_id,
        "timestamp": "2026-11-28T02:00:00.000Z",
        "channelId": channel,
        "serviceUrl": service_url,
        "from": {"id": user, "name": user.title()},
        "conversation": {"id": conversation},
        "recipient": {"id": "k8or-bot", "name": "k8or"},
        "text": text,
        **extra,
    }

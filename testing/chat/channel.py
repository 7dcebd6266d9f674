"""A Bot Framework channel on port 0: the bot's replies land here (its `serviceUrl`).

It implements the Bot Connector REST calls the SDK makes for replies and edits:
  POST /v3/conversations/{conversationId}/activities/{activityId}   reply to an activity
  POST /v3/conversations/{conversationId}/activities                send to a conversation
  PUT  /v3/conversations/{conversationId}/activities/{activityId}   update an activity
Each answers a `ResourceResponse` ({"id": ...}) as the Bot Connector API documents.
  GET  /v3/conversations/{conversationId}/members/{memberId}         one roster member (Teams)
answers a `TeamsChannelAccount` (id, name, aadObjectId, email, userPrincipalName, tenantId, ...),
or 404 with an `ErrorResponse` when the member is not in the conversation.

`proven_turn` makes an in-memory turn carrying the proof its edge would give (bot.trust).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity

from bot.identity import CONSOLE, SLACK_SIGNATURE, TEAMS_TOKEN
from bot.trust import PROOF, ChannelProof


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
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # roster, by member id
    roster_calls: list[RecordedCall] = field(default_factory=list)
    delay: float = 0.0
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _arrived: asyncio.Condition | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._record)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._record)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._record)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        return app

    async def _member(self, request: web.Request) -> web.Response:
        member = request.match_info["member"]
        self.roster_calls.append(
            RecordedCall(
                "GET",
                request.match_info["conversation"],
                member,
                {},
                request.headers.get("Authorization", ""),
            )
        )
        if member not in self.members:
            error = {"code": "MemberNotFoundInConversation", "message": "The member is not in the roster."}
            return web.json_response({"error": error}, status=404)
        return web.json_response({"id": member, **self.members[member]})

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


def roster_member(
    user: str, name: str, aad_object_id: str, email: str, tenant: str = "tenant-1"
) -> dict[str, Any]:
    """A Teams roster entry as the channel service answers it (TeamsChannelAccount)."""
    return {
        "id": user,
        "name": name,
        "aadObjectId": aad_object_id,
        "email": email,
        "userPrincipalName": email,
        "tenantId": tenant,
        "userRole": "user",
    }


def proven_turn(adapter: BotAdapter, activity: Activity) -> TurnContext:
    """An in-memory turn as its own edge would deliver it after verifying the sender: a valid Teams
    token (object id and tenant), a Slack signature (team and user) or the terminal. Any other
    channel gets no proof, exactly as an unverified /api/messages turn."""
    context = TurnContext(adapter, activity)
    proof = _proof_for(activity)
    if proof is not None:
        context.turn_state[PROOF] = proof
    return context


def _proof_for(activity: Activity) -> ChannelProof | None:
    sender = activity.from_property
    if activity.channel_id == "msteams" and sender.aad_object_id:
        tenant = (activity.conversation.tenant_id if activity.conversation else None) or ""
        return ChannelProof(TEAMS_TOKEN, "msteams", sender.id, sender.aad_object_id, tenant)
    if activity.channel_id == "slack":
        team = (activity.channel_data or {}).get("team_id") or "T0"
        return ChannelProof(SLACK_SIGNATURE, "slack", sender.id, team_id=team)
    if activity.channel_id == "console":
        return ChannelProof(CONSOLE, "console", sender.id)
    return None

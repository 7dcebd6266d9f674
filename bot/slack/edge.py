"""Slack requests in, Bot Framework activities out: the whole of Slack's shape stops here.

Like bolt's aiohttp adapter: check the signature, answer Slack's own handshake, and turn an event
(`app_mention`, a direct `message`) or a button press (`block_actions`) into an `Activity`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount
from slack_sdk.signature import SignatureVerifier

CHANNEL = "slack"


class SlackRequestError(Exception):
    """The request is not a well-formed Slack request."""


class BadSignature(SlackRequestError):
    """The request is not signed with our signing secret, or the signature is stale."""


def verify(verifier: SignatureVerifier, body: bytes, headers: Any) -> None:
    if not verifier.is_valid_request(body, dict(headers)):
        raise BadSignature("bad or stale Slack signature")


def read_event(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError:
        raise SlackRequestError("body is not JSON") from None
    if not isinstance(payload, dict):
        raise SlackRequestError("body is not a JSON object")
    return payload


def event_activity(payload: dict[str, Any], bot_user: str = "") -> Activity | None:
    """The activity for an Events API callback, or None for events k8or does not answer."""
    event = payload.get("event") or {}
    kind = event.get("type")
    if event.get("bot_id") or event.get("subtype") or not event.get("user"):
        return None  # other bots, edits, joins: never answer those
    if kind == "message" and event.get("channel_type") != "im":
        return None  # in channels k8or answers only when mentioned (app_mention)
    if kind not in ("app_mention", "message"):
        return None
    team = payload.get("team_id") or event.get("team") or ""
    channel = event.get("channel") or ""
    return _activity(
        activity_id=payload.get("event_id") or event.get("client_msg_id") or event.get("ts", ""),
        team=team,
        channel=channel,
        user=event["user"],
        is_group=event.get("channel_type") != "im",
        text=event.get("text") or "",
        thread_ts=event.get("thread_ts") or event.get("ts") or "",
        bot_user=bot_user,
    )


def interaction_activity(body: bytes) -> Activity | None:
    """The activity for a button press (block_actions) on a k8or message."""
    try:
        payload = json.loads(parse_qs(body.decode())["payload"][0])
        action = payload["actions"][0]
        value = json.loads(action.get("value") or "{}")
    except (KeyError, IndexError, ValueError, UnicodeDecodeError):
        raise SlackRequestError("not an interactivity payload") from None
    if payload.get("type") != "block_actions" or not isinstance(value, dict):
        return None
    channel = (payload.get("channel") or {}).get("id", "")
    message = payload.get("message") or {}
    activity = _activity(
        activity_id=f"{payload.get('trigger_id', '')}:{action.get('action_id', '')}",
        team=(payload.get("team") or {}).get("id", ""),
        channel=channel,
        user=(payload.get("user") or {}).get("id", ""),
        is_group=not channel.startswith("D"),
        text="",
        thread_ts=message.get("thread_ts") or message.get("ts", ""),
    )
    activity.value = value
    return activity


def _activity(
    *,
    activity_id: str,
    team: str,
    channel: str,
    user: str,
    is_group: bool,
    text: str,
    thread_ts: str,
    bot_user: str = "",
) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        id=activity_id,
        channel_id=CHANNEL,
        service_url="slack://",
        conversation=ConversationAccount(id=f"{team}:{channel}", is_group=is_group),
        from_property=ChannelAccount(id=user, name=user),
        recipient=ChannelAccount(id=bot_user or "k8or", name="k8or"),
        text=text,
        channel_data={"team_id": team, "channel": channel, "thread_ts": thread_ts},
    )

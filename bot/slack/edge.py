"""Slack requests in, Bot Framework activities out: the whole of Slack's shape stops here.

Like bolt's aiohttp adapter: check the signature, answer Slack's own handshake, and turn an event
(`app_mention`, a direct `message`), a button press (`block_actions`) or a slash command (`/k8or …`)
into an `Activity`. Socket Mode envelopes carry the same payloads and go through the same functions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, parse_qsl

from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount
from slack_sdk.signature import SignatureVerifier

CHANNEL = "slack"
FRESH_SECONDS = 300  # Slack's own replay window for a signed request
_TIMESTAMP_DIGITS = 12  # seconds since 1970 stay well under 12 digits until the year 33658


class SlackRequestError(Exception):
    """The request is not a well-formed Slack request."""


class BadSignature(SlackRequestError):
    """The request is not signed with our signing secret, or the signature is stale."""


def verify(verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str]) -> None:
    """Refuse the request unless it carries a fresh v0 signature of these exact bytes.

    Checked here on bytes rather than by slack_sdk's `is_valid_request`, which raises on a
    non-numeric or very long timestamp, a non-ASCII signature or a body that is not UTF-8.
    Unsigned or stale: BadSignature (401). A timestamp that is no Unix time: SlackRequestError (400).
    """
    lowered = {str(k).lower(): v for k, v in headers.items()}
    timestamp = lowered.get("x-slack-request-timestamp", "")
    signature = lowered.get("x-slack-signature", "")
    if not (timestamp and signature):
        raise BadSignature("bad or stale Slack signature")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _TIMESTAMP_DIGITS):
        raise SlackRequestError("X-Slack-Request-Timestamp is not a Unix time in seconds")
    if abs(verifier.clock.now() - int(timestamp)) > FRESH_SECONDS:
        raise BadSignature("bad or stale Slack signature")
    base = b"v0:" + timestamp.encode() + b":" + body
    digest = hmac.new(verifier.signing_secret.encode(), base, hashlib.sha256).hexdigest()
    if not signature.isascii() or not hmac.compare_digest(f"v0={digest}".encode(), signature.encode()):
        raise BadSignature("bad or stale Slack signature")


def read_event(body: bytes) -> dict[str, Any]:
    """The Events API envelope: a JSON object whose `event`, when present, is an object too."""
    payload = _json_object(body, "body")
    if "event" in payload and not isinstance(payload["event"], dict):
        raise SlackRequestError("event is not a JSON object")
    return payload


def event_activity(payload: dict[str, Any], bot_user: str = "") -> Activity | None:
    """The activity for an Events API callback, or None for events k8or does not answer.

    Total over any JSON object: fields of an unexpected type make the event one k8or ignores.
    """
    event = payload.get("event")
    if not isinstance(event, dict):
        return None
    kind, user = _text(event, "type"), _text(event, "user")
    if event.get("bot_id") or event.get("subtype") or not user:
        return None  # other bots, edits, joins: never answer those
    if kind == "message" and _text(event, "channel_type") != "im":
        return None  # in channels k8or answers only when mentioned (app_mention)
    if kind not in ("app_mention", "message"):
        return None
    return _activity(
        activity_id=_text(payload, "event_id") or _text(event, "client_msg_id") or _text(event, "ts"),
        team=_text(payload, "team_id") or _text(event, "team"),
        channel=_text(event, "channel"),
        user=user,
        is_group=_text(event, "channel_type") != "im",
        text=_text(event, "text"),
        thread_ts=_text(event, "thread_ts") or _text(event, "ts"),
        bot_user=bot_user,
    )


def interaction_activity(body: bytes) -> Activity | None:
    """The activity for a button press (block_actions) on a k8or message, or None for others."""
    return button_activity(_interaction_payload(body))


def command_activity(body: bytes) -> Activity | None:
    """The activity for a slash command request (`/k8or status`): a form, as Slack posts it."""
    try:
        fields = dict(parse_qsl(body.decode(), strict_parsing=False))
    except (UnicodeDecodeError, ValueError):
        raise SlackRequestError("not a slash command request") from None
    return slash_activity(fields)


def envelope_activity(kind: str, payload: dict[str, Any]) -> Activity | None:
    """The activity for a Socket Mode envelope: its payload is what the HTTP endpoint of its kind
    would have been sent (the event callback, the interactivity payload, the slash command's fields)."""
    if kind == "events_api":
        return event_activity(payload)
    if kind == "interactive":
        return button_activity(payload)
    if kind == "slash_commands":
        return slash_activity(payload)
    return None


def slash_activity(fields: Mapping[str, Any]) -> Activity | None:
    """`/k8or <words>` as the message `<words>`, answered in the channel it was typed in."""
    user, channel = _text(fields, "user_id"), _text(fields, "channel_id")
    if not (user and channel):
        raise SlackRequestError("not a slash command request")
    return _activity(
        activity_id=_text(fields, "trigger_id"),
        team=_text(fields, "team_id"),
        channel=channel,
        user=user,
        is_group=not channel.startswith("D"),
        text=_text(fields, "text").strip() or "help",
        thread_ts="",
    )


def button_activity(payload: dict[str, Any]) -> Activity | None:
    """The activity for an interactivity payload that is a press of one of k8or's buttons."""
    if payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else None
    if not isinstance(action, dict):
        raise SlackRequestError("not an interactivity payload")
    value = _button_value(action)
    if value is None:
        return None
    channel = _text(_member(payload, "channel"), "id")
    message = _member(payload, "message")
    activity = _activity(
        activity_id=f"{_text(payload, 'trigger_id')}:{_text(action, 'action_id')}",
        team=_text(_member(payload, "team"), "id"),
        channel=channel,
        user=_text(_member(payload, "user"), "id"),
        is_group=not channel.startswith("D"),
        text="",
        thread_ts=_text(message, "thread_ts") or _text(message, "ts"),
    )
    activity.value = value
    return activity


def _json_object(data: bytes | str, what: str) -> dict[str, Any]:
    try:
        parsed = json.loads(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise SlackRequestError(f"{what} is not JSON") from None
    if not isinstance(parsed, dict):
        raise SlackRequestError(f"{what} is not a JSON object")
    return parsed


def _interaction_payload(body: bytes) -> dict[str, Any]:
    """The form's `payload` field: exactly one, holding a JSON object."""
    try:
        fields = parse_qs(body.decode(), strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise SlackRequestError("not an interactivity payload") from None
    found = fields.get("payload", [])
    if len(found) != 1:
        raise SlackRequestError("not an interactivity payload")
    return _json_object(found[0], "payload")


def _button_value(action: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON object k8or put in the button's value; None when it holds anything else."""
    raw = action.get("value") or "{}"
    if not isinstance(raw, str):
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise SlackRequestError("not an interactivity payload") from None
    return value if isinstance(value, dict) else None


def _member(mapping: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = mapping.get(key)
    return value if isinstance(value, dict) else {}


def _text(mapping: Mapping[str, Any], key: str) -> str:
    value = mapping.get(key)
    return value if isinstance(value, str) else ""


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

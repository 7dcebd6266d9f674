"""Mount Slack on the app when a bot token and a way in (signing secret, app-level token) are set.

With the signing secret (Events API over HTTP):

POST /slack/events        Events API (url_verification, app_mention, direct messages)
POST /slack/interactive   Interactivity (confirmation buttons)
POST /slack/commands      The slash command (`/k8or status`)

With the app-level token, the same three arrive over Socket Mode instead (bot.slack.socket_mode).
Slack wants an answer within 3 seconds, so each request is acknowledged at once and its turn
runs as tracked background work (SIGTERM drains it like any turn).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.schema import Activity
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.http_body import read_bytes
from bot.identity import SLACK_SIGNATURE
from bot.keys import BOT, SERVICES
from bot.slack import configured
from bot.slack.adapter import SlackAdapter
from bot.slack.directory import SlackDirectory
from bot.slack.edge import (
    BadSignature,
    SlackRequestError,
    command_activity,
    event_activity,
    interaction_activity,
    read_event,
    verify,
)
from bot.trust import PROOF, ChannelProof

if TYPE_CHECKING:
    from bot.services import Services
    from bot.settings import Settings

Extension = Callable[[web.Application, "Services"], AsyncIterator[None]]

log = logging.getLogger(__name__)
SLACK = web.AppKey("slack", SlackAdapter)
DIRECTORY = web.AppKey("slack_directory", SlackDirectory)


def mount_slack(app: web.Application, extensions: list[Extension], settings: Settings) -> bool:
    """Add the Slack routes and start-up extensions; False when Slack is not configured."""
    if not configured(settings):
        return False
    extensions.append(_web_api_extension(settings))
    secret = settings.slack_signing_secret.get_secret_value()
    if secret:  # never without one: an empty key would make every forged signature valid
        _mount_events_api(app, SignatureVerifier(secret))
    if settings.slack_app_token.get_secret_value():
        from bot.slack.socket_mode import socket_mode_extension

        extensions.append(socket_mode_extension(settings, _start_turn))
    return True


def _mount_events_api(app: web.Application, verifier: SignatureVerifier) -> None:
    async def events(request: web.Request) -> web.Response:
        payload = await _verified(request, verifier, read_event)
        if payload.get("type") == "url_verification":
            return web.json_response({"challenge": payload.get("challenge", "")})
        _start_turn(request.app, event_activity(payload))
        return web.Response(status=200)

    async def interactive(request: web.Request) -> web.Response:
        _start_turn(request.app, await _verified(request, verifier, interaction_activity))
        return web.Response(status=200)

    async def commands(request: web.Request) -> web.Response:
        _start_turn(request.app, await _verified(request, verifier, command_activity))
        return web.Response(status=200)

    app.router.add_post("/slack/events", events)
    app.router.add_post("/slack/interactive", interactive)
    app.router.add_post("/slack/commands", commands)


def _web_api_extension(settings: Settings) -> Extension:
    """The Web API client (replies, the directory) for the app's lifetime, whichever way Slack talks in."""
    token = settings.slack_bot_token.get_secret_value()

    async def extension(app: web.Application, services: Services) -> AsyncIterator[None]:
        # slack_sdk annotates timeout as int but hands it to aiohttp, which takes fractions of seconds.
        timeout: int = settings.outbound_timeout  # type: ignore[assignment]
        client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=timeout)
        app[SLACK] = SlackAdapter(client)
        app[DIRECTORY] = SlackDirectory(client)
        if hasattr(services.identity, "slack"):
            services.identity.slack = app[DIRECTORY]  # bot.trust asks it for email and group ids
        direct = services.direct
        if direct is not None:
            direct.adapters["slack"] = app[SLACK]
        yield

    return extension


async def _verified(request: web.Request, verifier: SignatureVerifier, read: Callable[[bytes], Any]) -> Any:
    """The request's content, once its signature checks out: 401 if it does not, 400 if unreadable."""
    body = await read_bytes(request, "body is not a Slack request")
    try:
        verify(verifier, body, request.headers)
        return read(body)
    except BadSignature as exc:
        raise web.HTTPUnauthorized(text=str(exc)) from None
    except SlackRequestError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None


def _start_turn(app: web.Application, activity: Activity | None) -> None:
    if activity is None:
        return

    async def turn() -> None:
        adapter = app[SLACK]
        context = TurnContext(adapter, activity)
        context.turn_state[PROOF] = slack_proof(activity)
        await adapter.run_pipeline(context, app[BOT].on_turn)

    app[SERVICES].tracker.spawn(turn(), name=f"slack:{activity.id}")


def slack_proof(activity: Activity) -> ChannelProof:
    """The signature checked out (or the payload came over the Socket Mode connection k8or opened with
    its app-level token) and this activity was built from that payload alone, so its team and user are
    Slack's word. The proof rides in turn_state, out of any client's reach."""
    team = (activity.channel_data or {}).get("team_id", "")
    return ChannelProof(SLACK_SIGNATURE, "slack", activity.from_property.id, team_id=team)

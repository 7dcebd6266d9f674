"""Slack over Socket Mode: events, button presses and slash commands through a websocket k8or opens.

No public URL and no signing secret: `apps.connections.open`, called with the app-level token
(K8OR_SLACK_APP_TOKEN), hands out a websocket URL, and what arrives over that authenticated socket
is Slack's word as much as a signed request is. An envelope's payload is what the HTTP endpoint of
its kind would have been sent, so it goes through the same edge functions, proof, dedupe and replies.

Slack redelivers an envelope not acknowledged within 3 seconds, so each is acknowledged first and
its turn then runs as tracked background work. slack_sdk's client reconnects by itself when Slack
asks (`disconnect`) or the connection drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from aiohttp import web
from botbuilder.schema import Activity
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.edge import SlackRequestError, envelope_activity

if TYPE_CHECKING:
    from bot.services import Services
    from bot.settings import Settings

log = logging.getLogger(__name__)
SOCKET = web.AppKey("slack_socket_mode", SocketModeClient)

# apps.connections.open errors that no retry will fix: the app-level token is wrong.
REFUSED = frozenset(
    {"invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked", "account_inactive"}
)

Deliver = Callable[[Activity], None]
StartTurn = Callable[[web.Application, Activity], None]


class SocketModeLink:
    """Acknowledges each envelope the client receives, then hands its activity to `deliver`."""

    def __init__(self, client: SocketModeClient, deliver: Deliver):
        self.client = client
        self._deliver = deliver
        client.socket_mode_request_listeners.append(self.on_request)

    async def on_request(self, client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        try:
            activity = envelope_activity(request.type, request.payload)
        except SlackRequestError as exc:
            log.warning("slack socket mode: %s envelope ignored: %s", request.type, exc)
            return
        if activity is not None:
            self._deliver(activity)

    async def open(self) -> None:
        """Connect; slack_sdk retries an unreachable Slack by itself, but not a refused token."""
        try:
            self.client.wss_uri = await self.client.issue_new_wss_url()
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error in REFUSED:
                log.error("slack socket mode: Slack refused K8OR_SLACK_APP_TOKEN (%s); not connecting", error)
                return
            log.warning("slack socket mode: apps.connections.open failed (%s); retrying", error)
        except (OSError, TimeoutError) as exc:
            log.warning("slack socket mode: Slack unreachable (%s); retrying", type(exc).__name__)
        await self.client.connect()


Extension = Callable[[web.Application, "Services"], AsyncIterator[None]]


def socket_mode_extension(settings: Settings, start_turn: StartTurn) -> Extension:
    """The Socket Mode connection for the app's lifetime: opened after start-up, closed at shutdown."""

    async def extension(app: web.Application, services: Services) -> AsyncIterator[None]:
        # slack_sdk annotates timeout as int but hands it to aiohttp, which takes fractions of seconds.
        timeout: int = settings.outbound_timeout  # type: ignore[assignment]
        # apps.connections.open is called with the app-level token; this client holds no other.
        web_client = AsyncWebClient(base_url=settings.slack_api_url, timeout=timeout)
        client = SocketModeClient(
            app_token=settings.slack_app_token.get_secret_value(), web_client=web_client, logger=log
        )
        app[SOCKET] = client
        link = SocketModeLink(client, lambda activity: start_turn(app, activity))
        # Start-up does not wait for Slack: the connection opens (and retries) in the background.
        opening = asyncio.create_task(link.open(), name="slack:socket-mode")
        try:
            yield
        finally:
            opening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await opening
            await client.close()

    return extension

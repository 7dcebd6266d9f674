"""Slack's Socket Mode on port 0, for slack_sdk's real SocketModeClient.

`apps.connections.open` (called with the app-level token) answers `{"ok": true, "url": "ws://…/link"}`;
on that websocket the stand-in speaks the envelope protocol of api.slack.com/apis/socket-mode: a
`hello` first, then envelopes `{"envelope_id", "type": events_api | interactive | slash_commands,
"payload", "accepts_response_payload"}` that the client acknowledges with `{"envelope_id": …}`, and a
`disconnect` (reason `refresh_requested`) after which the client fetches a new URL and reconnects.
The Web API methods replies use are FakeSlack's.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from testing.chat.slack_api import FakeSlack

APP_TOKEN = "xapp-1-A0K8OR-1-test"


@dataclass
class FakeSocketMode(FakeSlack):
    app_token: str = APP_TOKEN
    connections: int = 0  # websockets opened so far
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)  # envelope id → the client's ack
    _socket: web.WebSocketResponse | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = super().app()
        app.router.add_get("/link", self._link)
        return app

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["method"] != "apps.connections.open":
            return await super()._method(request)
        if request.headers.get("Authorization") != f"Bearer {self.app_token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        self.calls.append(("apps.connections.open", {}))
        return web.json_response({"ok": True, "url": f"ws://{request.host}/link?ticket={next(self._ids)}"})

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        self.connections += 1
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "applink-test", "approximate_connection_time": 18060},
                "connection_info": {"app_id": "A0K8OR"},
            }
        )
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                ack = json.loads(message.data)
                self.acks[ack["envelope_id"]] = ack
        return socket

    async def connected(self, count: int = 1, timeout: float = 10) -> None:
        """Wait until the client has opened `count` websockets and the latest is open."""
        await _until(
            lambda: self.connections >= count and self._socket is not None and not self._socket.closed,
            f"{count} Socket Mode connection(s)",
            timeout,
        )

    async def send(self, kind: str, payload: dict[str, Any]) -> str:
        """Deliver one envelope on the current connection; its id."""
        envelope_id = f"env-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        assert self._socket is not None, "no Socket Mode connection"
        await self._socket.send_json(envelope)
        return envelope_id

    async def acked(self, envelope_id: str, timeout: float = 10) -> dict[str, Any]:
        await _until(lambda: envelope_id in self.acks, f"the ack of {envelope_id}", timeout)
        return self.acks[envelope_id]

    async def refresh(self) -> None:
        """What Slack does every few hours: ask the client to reconnect."""
        assert self._socket is not None
        await self._socket.send_json(
            {"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "applink-test"}}
        )

    async def drop(self) -> None:
        """The connection is lost without a word (a restart on Slack's side, a network blip)."""
        assert self._socket is not None
        await self._socket.close()


async def _until(check: Any, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


def slash_command(
    text: str, *, user: str = "U1", channel: str = "D1", trigger: str = "tr1"
) -> dict[str, str]:
    """A slash command's fields as Slack sends them (a form over HTTP, this object over Socket Mode)."""
    return {
        "token": "deprecated-verification-token",
        "team_id": "T1",
        "team_domain": "example",
        "channel_id": channel,
        "channel_name": "directmessage" if channel.startswith("D") else "ops",
        "user_id": user,
        "user_name": "ana",
        "command": "/k8or",
        "text": text,
        "api_app_id": "A0K8OR",
        "response_url": "https://hooks.slack.com/commands/T1/1/x",
        "trigger_id": trigger,
    }

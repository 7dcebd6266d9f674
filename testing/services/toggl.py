"""Fake Toggl Track API v9: GET /api/v9/me and the current time entry, basic auth with the API token."""

from __future__ import annotations

import base64
import dataclasses
import secrets

from aiohttp import web

from testing.services.faults import ErrorShape, Fault, FaultSwitch, fault_middleware, json_error, load

# Toggl answers a bad API token with 403 and a plain-text body.
SHAPES = {
    Fault.UNAUTHORIZED: ErrorShape(403, "Incorrect username and/or password", content_type="text/plain"),
    Fault.FORBIDDEN: ErrorShape(403, "Incorrect username and/or password", content_type="text/plain"),
    Fault.EXPIRED: ErrorShape(
        401,
        "API token expired",
        {"WWW-Authenticate": 'Basic realm="api", error="expired"'},
        content_type="text/plain",
    ),
    Fault.RATE_LIMITED: json_error(429, "Too Many Requests", **{"Retry-After": "7"}),
}


@dataclasses.dataclass
class TogglState:
    switch: FaultSwitch = dataclasses.field(default_factory=FaultSwitch)
    tokens: set[str] = dataclasses.field(default_factory=set)

    def issue_token(self) -> str:
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return token


def create_app(state: TogglState) -> web.Application:
    """The fake's aiohttp app, rooted where K8OR_TOGGL_API_URL points."""
    app = web.Application(middlewares=[fault_middleware(state.switch, SHAPES)])
    app.router.add_get("/api/v9/me", lambda r: _me(r, state))
    app.router.add_get("/api/v9/me/time_entries/current", lambda r: _current(r, state))
    return app


def _token(request: web.Request, state: TogglState) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    user, _, password = base64.b64decode(value).decode().partition(":")
    return user if password == "api_token" and user in state.tokens else None


def _forbidden() -> web.Response:
    return web.Response(status=403, text="Incorrect username and/or password")


async def _me(request: web.Request, state: TogglState) -> web.Response:
    token = _token(request, state)
    if token is None:
        return _forbidden()
    body = load("toggl_me")
    body["api_token"] = token  # the real API echoes the token back; the connector must drop it
    return web.json_response(body)


async def _current(request: web.Request, state: TogglState) -> web.Response:
    if _token(request, state) is None:
        return _forbidden()
    return web.json_response(load("toggl_current_entry"))

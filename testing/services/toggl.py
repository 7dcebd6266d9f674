"""Fake Toggl Track API v9, basic auth with the API token: GET /api/v9/me, the current time entry, and
a workspace's time entries (POST …/workspaces/{wid}/time_entries to start one with `duration: -1`,
PATCH …/time_entries/{id}/stop to stop it; 409 when it is stopped already), as the v9 reference has them.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import secrets
from typing import Any

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
    entries: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # time entries, oldest first
    stopped_at: str = "2026-11-30T03:01:00Z"  # the stop time the fake records

    def issue_token(self) -> str:
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return token


def create_app(state: TogglState) -> web.Application:
    """The fake's aiohttp app, rooted where K8OR_TOGGL_API_URL points."""
    app = web.Application(middlewares=[fault_middleware(state.switch, SHAPES)])
    app.router.add_get("/api/v9/me", lambda r: _me(r, state))
    app.router.add_get("/api/v9/me/time_entries/current", lambda r: _current(r, state))
    entries = "/api/v9/workspaces/{wid:[0-9]+}/time_entries"
    app.router.add_post(entries, lambda r: _start(r, state))
    app.router.add_patch(entries + "/{id:[0-9]+}/stop", lambda r: _stop(r, state))
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


WORKSPACE = load("toggl_me")["default_workspace_id"]


def _bad_request(text: str) -> web.Response:
    return web.json_response(text, status=400)  # Toggl words its 400s as a JSON string


async def _start(request: web.Request, state: TogglState) -> web.Response:
    if _token(request, state) is None:
        return _forbidden()
    wid, body = int(request.match_info["wid"]), await request.json()
    if wid != WORKSPACE:
        return _forbidden()
    if not body.get("created_with"):
        return _bad_request("created_with needs to be provided an a valid string")
    if body.get("workspace_id") != wid or "start" not in body:
        return _bad_request("Workspace ID and start are required")
    entry = copy.deepcopy(load("toggl_time_entry"))
    entry.update(
        id=3412346000 + len(state.entries),
        description=body.get("description", ""),
        tags=list(body.get("tags") or []),
        start=body["start"],
        duration=body.get("duration", -1),
        stop=None,
    )
    entry["created_with"] = body["created_with"]
    state.entries.append(entry)
    return web.json_response(entry)


async def _stop(request: web.Request, state: TogglState) -> web.Response:
    if _token(request, state) is None:
        return _forbidden()
    wanted = int(request.match_info["id"])
    entry = next((e for e in state.entries if e["id"] == wanted), None)
    if entry is None:
        return web.json_response("Time entry not found", status=404)
    if entry["stop"] is not None:
        return web.json_response("Time entry already stopped", status=409)
    entry["stop"], entry["duration"] = state.stopped_at, 3660
    return web.json_response(entry)

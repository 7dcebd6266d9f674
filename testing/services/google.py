"""Fake Google: consent screen, token endpoint (code, device and refresh grants), device code, the
oauth2 v2 userinfo/tokeninfo API that google-api-python-client calls, and Calendar v3 `events.list`
(timeMin/timeMax overlap, as the reference defines it; 404 for a calendar it does not hold)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from urllib.parse import urlencode

from aiohttp import web

from testing.services.faults import (
    Fault,
    FaultSwitch,
    bearer,
    fault_middleware,
    json_error,
    load,
)

REALM = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
SHAPES = {
    Fault.UNAUTHORIZED: json_error(401, load("google_unauthenticated"), **{"WWW-Authenticate": REALM}),
    Fault.FORBIDDEN: json_error(403, load("google_forbidden")),
    Fault.EXPIRED: json_error(
        401,
        load("google_unauthenticated"),
        **{"WWW-Authenticate": REALM + ', error_description="The access token expired"'},
    ),
    Fault.RATE_LIMITED: json_error(429, load("google_rate_limited"), **{"Retry-After": "7"}),
}


@dataclasses.dataclass
class GoogleState:
    # Faults hit the API host only; the token endpoint stays up so a refresh can be tried.
    switch: FaultSwitch = dataclasses.field(
        default_factory=lambda: FaultSwitch(only_paths=("/oauth2/", "/calendar/"))
    )
    client_id: str = "407408718192.apps.googleusercontent.com"
    client_secret: str = dataclasses.field(default_factory=lambda: "GOCSPX-" + secrets.token_urlsafe(16))
    tokens: set[str] = dataclasses.field(default_factory=set)
    refresh_tokens: set[str] = dataclasses.field(default_factory=set)
    codes: dict[str, str] = dataclasses.field(default_factory=dict)  # code → redirect_uri
    devices: dict[str, str] = dataclasses.field(default_factory=dict)  # device_code → pending|approved|denied
    # calendar id → events as (summary, start, end) in RFC 3339
    calendars: dict[str, list[tuple[str, str, str]]] = dataclasses.field(default_factory=dict)
    listed: list[dict[str, str]] = dataclasses.field(default_factory=list)  # events.list queries seen

    def issue_token(self) -> str:
        token = "ya29." + secrets.token_urlsafe(32)
        self.tokens.add(token)
        return token

    def token_response(self) -> dict[str, object]:
        body = load("google_token")
        body["access_token"] = self.issue_token()
        body["refresh_token"] = "1//" + secrets.token_urlsafe(24)
        self.refresh_tokens.add(str(body["refresh_token"]))
        return body


def create_app(state: GoogleState) -> web.Application:
    """accounts.google.com, oauth2.googleapis.com and www.googleapis.com on one root."""
    app = web.Application(middlewares=[fault_middleware(state.switch, SHAPES)])
    app.router.add_get("/o/oauth2/v2/auth", lambda r: _authorize(r, state))
    app.router.add_post("/token", lambda r: _token(r, state))
    app.router.add_post("/device/code", lambda r: _device_code(r, state))
    app.router.add_get("/oauth2/v2/userinfo", lambda r: _userinfo(r, state))
    app.router.add_post("/oauth2/v2/tokeninfo", lambda r: _tokeninfo(r, state))
    app.router.add_get("/calendar/v3/calendars/{calendar}/events", lambda r: _events(r, state))
    return app


async def _authorize(request: web.Request, state: GoogleState) -> web.Response:
    query = request.query
    if query.get("client_id") != state.client_id:
        return web.Response(status=400, text="Error 401: invalid_client")
    code = "4/0A" + secrets.token_urlsafe(16)
    state.codes[code] = query["redirect_uri"]
    raise web.HTTPFound(f"{query['redirect_uri']}?{urlencode({'state': query['state'], 'code': code})}")


def _oauth_error(error: str, status: int = 400) -> web.Response:
    return web.json_response({"error": error, "error_description": error.replace("_", " ")}, status=status)


async def _token(request: web.Request, state: GoogleState) -> web.Response:
    form = await request.post()
    if form.get("client_id") != state.client_id or form.get("client_secret") != state.client_secret:
        return _oauth_error("invalid_client", 401)
    grant = form.get("grant_type")
    if grant == "authorization_code":
        if state.codes.pop(str(form.get("code")), None) != form.get("redirect_uri"):
            return _oauth_error("invalid_grant")
        return web.json_response(state.token_response())
    if grant == "refresh_token":
        if form.get("refresh_token") not in state.refresh_tokens:
            return _oauth_error("invalid_grant")
        return web.json_response(
            {
                "access_token": state.issue_token(),
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": load("google_token")["scope"],
            }
        )
    return _device_poll(str(form.get("device_code")), state)


def _device_poll(device_code: str, state: GoogleState) -> web.Response:
    status = state.devices.get(device_code)
    if status == "pending":
        return _oauth_error("authorization_pending", 428)  # Google's documented status for "pending"
    if status == "denied":
        return _oauth_error("access_denied", 403)
    if status == "approved":
        return web.json_response(state.token_response())
    return _oauth_error("invalid_grant")


async def _device_code(request: web.Request, state: GoogleState) -> web.Response:
    form = await request.post()
    if form.get("client_id") != state.client_id:
        return _oauth_error("invalid_client", 401)
    body = load("google_device_code")
    body["device_code"] = "AH-" + secrets.token_urlsafe(24)
    body["interval"] = 0
    state.devices[body["device_code"]] = "pending"
    return web.json_response(body)


def _unauthenticated() -> web.Response:
    return web.json_response(load("google_unauthenticated"), status=401, headers={"WWW-Authenticate": REALM})


async def _userinfo(request: web.Request, state: GoogleState) -> web.Response:
    if bearer(request) not in state.tokens:
        return _unauthenticated()
    return web.json_response(load("google_userinfo"))


async def _tokeninfo(request: web.Request, state: GoogleState) -> web.Response:
    token = request.query.get("access_token") or (await request.post()).get("access_token")
    if token not in state.tokens:
        return web.json_response({"error": "invalid_token", "error_description": "Invalid Value"}, status=400)
    return web.json_response(load("google_tokeninfo"))


async def _events(request: web.Request, state: GoogleState) -> web.Response:
    if bearer(request) not in state.tokens:
        return _unauthenticated()
    calendar = request.match_info["calendar"]
    state.listed.append({"calendar": calendar, **request.query})
    if calendar not in state.calendars:
        return web.json_response(_not_found(), status=404)
    start, end = _moment(request.query.get("timeMin")), _moment(request.query.get("timeMax"))
    if start is None or end is None or end <= start:
        return web.json_response(_bad_range(), status=400)
    body = load("google_calendar_events")
    template = body["items"][0]
    body["items"] = [
        {**template, "summary": summary, "start": {"dateTime": since}, "end": {"dateTime": until}}
        for summary, since, until in state.calendars[calendar]
        if _moment(since) < end and _moment(until) > start  # type: ignore[operator]
    ]
    return web.json_response(body)


def _moment(value: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _not_found() -> dict[str, object]:
    return {
        "error": {"code": 404, "message": "Not Found", "errors": [{"domain": "global", "reason": "notFound"}]}
    }


def _bad_range() -> dict[str, object]:
    reason = {
        "domain": "calendar",
        "reason": "timeRangeEmpty",
        "message": "The specified time range is empty.",
    }
    return {"error": {"code": 400, "message": reason["message"], "errors": [reason]}}

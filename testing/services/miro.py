"""Fake Miro: the OAuth consent screen and token endpoint, the token context, GET /v2/boards, and
POST /v2/boards/{board_id}/images (multipart: a `resource` file part and a JSON `data` part)."""

from __future__ import annotations

import dataclasses
import json
import secrets
from urllib.parse import urlencode

from aiohttp import BodyPartReader, web

from testing.services.faults import (
    BEARER_EXPIRED,
    ErrorShape,
    Fault,
    FaultSwitch,
    bearer,
    json_error,
    load,
)
from testing.services.faults import fault_middleware as _middleware

SHAPES = {
    Fault.UNAUTHORIZED: json_error(401, load("miro_unauthorized")),
    Fault.FORBIDDEN: json_error(
        403,
        {
            "status": 403,
            "code": "insufficientPermissions",
            "message": "Not enough permissions",
            "type": "error",
        },
    ),
    Fault.EXPIRED: ErrorShape(
        401, '{"status": 401, "code": "tokenExpired", "type": "error"}', BEARER_EXPIRED
    ),
    Fault.RATE_LIMITED: json_error(
        429, {"status": 429, "code": "tooManyRequests", "type": "error"}, **{"Retry-After": "7"}
    ),
}


@dataclasses.dataclass
class MiroState:
    switch: FaultSwitch = dataclasses.field(default_factory=FaultSwitch)
    client_id: str = "3458764513820540999"
    client_secret: str = dataclasses.field(default_factory=lambda: secrets.token_urlsafe(16))
    tokens: set[str] = dataclasses.field(default_factory=set)
    codes: dict[str, str] = dataclasses.field(default_factory=dict)  # code → redirect_uri
    deny: bool = False
    images: list[tuple[str, str, bytes]] = dataclasses.field(default_factory=list)  # (board, title, file)

    def issue_token(self) -> str:
        token = "eyJtaXJvLm9yaWdpbiI6ImV1MDEifQ_" + secrets.token_urlsafe(24)
        self.tokens.add(token)
        return token


def create_app(state: MiroState) -> web.Application:
    """One app for miro.com (consent screen) and api.miro.com (token, context, boards)."""
    app = web.Application(middlewares=[_middleware(state.switch, SHAPES)])
    app.router.add_get("/oauth/authorize", lambda r: _authorize(r, state))
    app.router.add_post("/v1/oauth/token", lambda r: _token(r, state))
    app.router.add_get("/v1/oauth-token", lambda r: _context(r, state))
    app.router.add_get("/v2/boards", lambda r: _boards(r, state))
    app.router.add_post("/v2/boards/{board}/images", lambda r: _image(r, state))
    return app


async def _authorize(request: web.Request, state: MiroState) -> web.Response:
    # The person would click "Allow" here; the fake consents (or refuses) at once.
    query = request.query
    if query.get("client_id") != state.client_id or query.get("response_type") != "code":
        return web.Response(status=400, text="invalid client")
    if state.deny:
        params = {"error": "access_denied", "state": query["state"]}
    else:
        code = secrets.token_urlsafe(12)
        state.codes[code] = query["redirect_uri"]
        params = {"code": code, "state": query["state"], "client_id": state.client_id}
    raise web.HTTPFound(f"{query['redirect_uri']}?{urlencode(params)}")


async def _token(request: web.Request, state: MiroState) -> web.Response:
    # Miro documents these as query parameters; accept a form body too, as OAuth clients send one.
    params = {**request.query, **(await request.post())}
    if params.get("client_id") != state.client_id or params.get("client_secret") != state.client_secret:
        return web.json_response(
            {"status": 401, "message": "Client authentication failed", "type": "error"}, status=401
        )
    redirect = state.codes.pop(str(params.get("code", "")), None)
    if redirect is None or redirect != params.get("redirect_uri"):
        return web.json_response({"error": "invalid_grant", "status": 400, "type": "error"}, status=400)
    body = load("miro_token")
    body["access_token"] = state.issue_token()
    body["refresh_token"] = secrets.token_urlsafe(24)
    return web.json_response(body)


async def _context(request: web.Request, state: MiroState) -> web.Response:
    if bearer(request) not in state.tokens:
        return web.json_response(load("miro_unauthorized"), status=401)
    return web.json_response(load("miro_token_context"))


async def _boards(request: web.Request, state: MiroState) -> web.Response:
    if bearer(request) not in state.tokens:
        return web.json_response(load("miro_unauthorized"), status=401)
    return web.json_response(load("miro_boards"))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def _image(request: web.Request, state: MiroState) -> web.Response:
    if bearer(request) not in state.tokens:
        return web.json_response(load("miro_unauthorized"), status=401)
    parts: dict[str, bytes] = {}
    async for part in await request.multipart():
        if isinstance(part, BodyPartReader) and part.name:
            parts[part.name] = bytes(await part.read())
    resource = parts.get("resource", b"")
    if not resource.startswith(PNG_SIGNATURE):
        failed = {"status": 400, "code": "invalidParameters", "message": "Invalid image", "type": "error"}
        return web.json_response(failed, status=400)
    title = str(json.loads(parts.get("data") or b"{}").get("title", ""))
    state.images.append((request.match_info["board"], title, resource))
    item = load("miro_image")
    item["id"] = str(3458764517517819000 + len(state.images))
    item["data"]["title"] = title
    return web.json_response(item, status=201)

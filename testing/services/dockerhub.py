"""Fake Docker Hub, registry token service and registry on one root.

Hub: POST /v2/auth/token (identifier + personal access token → JWT). Token service: GET /token with
basic auth. Registry: HEAD /v2/<name>/manifests/<reference> with a bearer token.
"""

from __future__ import annotations

import base64
import dataclasses
import secrets
import time
import uuid

import jwt
from aiohttp import web

from testing.services.faults import (
    ErrorShape,
    Fault,
    FaultSwitch,
    bearer,
    fault_middleware,
    json_error,
    load,
)

SIGNING_KEY = "fake-docker-hub-signing-key-for-tests-only"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
SHAPES = {
    Fault.UNAUTHORIZED: json_error(401, load("dockerhub_unauthorized")),
    Fault.FORBIDDEN: json_error(403, {"message": "access denied", "errinfo": {}}),
    Fault.EXPIRED: ErrorShape(
        401,
        '{"message": "token expired", "errinfo": {}}',
        {"WWW-Authenticate": 'Bearer error="invalid_token", error_description="token expired"'},
    ),
    Fault.RATE_LIMITED: json_error(429, {"message": "Too Many Requests"}, **{"Retry-After": "7"}),
}


@dataclasses.dataclass
class DockerhubState:
    switch: FaultSwitch = dataclasses.field(default_factory=FaultSwitch)
    users: dict[str, str] = dataclasses.field(default_factory=dict)  # access token → username
    registry_tokens: set[str] = dataclasses.field(default_factory=set)
    digests: dict[str, str] = dataclasses.field(
        default_factory=lambda: {
            "library/nginx:latest": "sha256:" + "a" * 64,
        }
    )

    def issue_token(self, username: str = "ada") -> str:
        token = "dckr_pat_" + secrets.token_urlsafe(20)
        self.users[token] = username
        return token


def create_app(state: DockerhubState) -> web.Application:
    app = web.Application(middlewares=[fault_middleware(state.switch, SHAPES)])
    app.router.add_post("/v2/auth/token", lambda r: _hub_token(r, state))
    app.router.add_get("/token", lambda r: _registry_token(r, state))
    app.router.add_route("HEAD", "/v2/{name:.+}/manifests/{reference}", lambda r: _manifest(r, state))
    return app


def _hub_jwt(username: str) -> str:
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid5(uuid.NAMESPACE_DNS, username)),
        "iat": now,
        "exp": now + 600,
        "https://hub.docker.com": {
            "username": username,
            "email": f"{username}@example.com",
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_DNS, username)),
            "source": {"type": "pat"},
        },
    }
    return jwt.encode(claims, SIGNING_KEY, algorithm="HS256")


async def _hub_token(request: web.Request, state: DockerhubState) -> web.Response:
    body = await request.json()
    if state.users.get(body.get("secret", "")) != body.get("identifier"):
        return web.json_response(load("dockerhub_unauthorized"), status=401)
    return web.json_response({"access_token": _hub_jwt(body["identifier"])})


async def _registry_token(request: web.Request, state: DockerhubState) -> web.Response:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    user, _, secret = base64.b64decode(value).decode().partition(":") if scheme == "Basic" else ("", "", "")
    if state.users.get(secret) != user:
        return web.json_response({"details": "incorrect username or password"}, status=401)
    token = secrets.token_urlsafe(24)
    state.registry_tokens.add(token)
    body = load("dockerhub_registry_token")
    body["token"] = body["access_token"] = token
    return web.json_response(body)


async def _manifest(request: web.Request, state: DockerhubState) -> web.Response:
    if bearer(request) not in state.registry_tokens:
        return web.json_response(load("dockerhub_registry_unauthorized"), status=401)
    key = f"{request.match_info['name']}:{request.match_info['reference']}"
    digest = state.digests.get(key)
    if digest is None:
        return web.Response(status=404)
    return web.Response(status=200, headers={"Docker-Content-Digest": digest, "Content-Type": INDEX_TYPE})

"""Fake Docker Hub, registry token service and registry on one root.

Hub: POST /v2/auth/token (identifier + personal access token → JWT). Token service: GET /token with
basic auth. Registry: HEAD and GET /v2/<name>/manifests/<reference> (a tag or a digest) and
GET /v2/<name>/blobs/<digest> with a bearer token; `push_image` stores an image whose config blob (the
recorded `dockerhub_image_config` shape) carries the labels a test gives it.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import json
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
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
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

    blobs: dict[str, bytes] = dataclasses.field(default_factory=dict)  # digest → content
    manifests: dict[str, bytes] = dataclasses.field(default_factory=dict)  # "repo@digest" → manifest

    def push_image(self, repository: str, tag: str, labels: dict[str, str]) -> str:
        """Store an image under `repository:tag` whose config carries `labels`; its manifest digest."""
        config = copy.deepcopy(load("dockerhub_image_config"))
        config["config"]["Labels"] = labels
        config_digest = self._blob(json.dumps(config).encode())
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {
                "mediaType": CONFIG_TYPE,
                "digest": config_digest,
                "size": len(self.blobs[config_digest]),
            },
            "layers": [],
        }
        body = json.dumps(manifest).encode()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        self.manifests[f"{repository}@{digest}"] = body
        self.digests[f"{repository}:{tag}"] = digest
        return digest

    def _blob(self, content: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        self.blobs[digest] = content
        return digest

    def issue_token(self, username: str = "ada") -> str:
        token = "dckr_pat_" + secrets.token_urlsafe(20)
        self.users[token] = username
        return token


def create_app(state: DockerhubState) -> web.Application:
    app = web.Application(middlewares=[fault_middleware(state.switch, SHAPES)])
    app.router.add_post("/v2/auth/token", lambda r: _hub_token(r, state))
    app.router.add_get("/token", lambda r: _registry_token(r, state))
    # GET, and HEAD with the same headers and no body (aiohttp adds HEAD to a GET route).
    app.router.add_get("/v2/{name:.+}/manifests/{reference}", lambda r: _manifest(r, state))
    app.router.add_get("/v2/{name:.+}/blobs/{digest}", lambda r: _blob(r, state))
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
    name, reference = request.match_info["name"], request.match_info["reference"]
    digest = reference if reference.startswith("sha256:") else state.digests.get(f"{name}:{reference}")
    body = state.manifests.get(f"{name}@{digest}")
    if digest is None or (body is None and reference.startswith("sha256:")):
        return web.json_response(_unknown("MANIFEST_UNKNOWN", "manifest unknown"), status=404)
    headers = {"Docker-Content-Digest": digest}
    if body is None:  # a tag known only by its digest (the pinning tests): an index, as Hub serves
        return web.Response(status=200, headers={**headers, "Content-Type": INDEX_TYPE})
    return web.Response(status=200, body=body, headers={**headers, "Content-Type": MANIFEST_TYPE})


async def _blob(request: web.Request, state: DockerhubState) -> web.Response:
    if bearer(request) not in state.registry_tokens:
        return web.json_response(load("dockerhub_registry_unauthorized"), status=401)
    content = state.blobs.get(request.match_info["digest"])
    if content is None:
        return web.json_response(_unknown("BLOB_UNKNOWN", "blob unknown to registry"), status=404)
    return web.Response(body=content, content_type="application/octet-stream")


def _unknown(code: str, message: str) -> dict[str, object]:
    """The registry's error body (OCI distribution spec)."""
    return {"errors": [{"code": code, "message": message, "detail": None}]}

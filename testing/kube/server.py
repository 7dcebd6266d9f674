"""The HTTP surface: URL parsing, auth, recording, discovery, watch streaming."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import yaml
from aiohttp import web

from . import authz, handlers, protobuf, watching
from .kinds import BY_PATH, Kind, group_list, resource_list
from .statuses import ApiError, bad_request, unauthorized

if TYPE_CHECKING:
    from .fake import FakeKube

VERSION = {
    "major": "1",
    "minor": "35",
    "gitVersion": "v1.35.0",
    "gitCommit": "fake",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.24",
    "compiler": "gc",
    "platform": "linux/amd64",
}
log = logging.getLogger(__name__)
FAKE: web.AppKey[FakeKube] = web.AppKey("fake", object)  # type: ignore[arg-type]
_VERB_BY_METHOD = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass
class RecordedRequest:
    """What a test can assert about a request the fake received."""

    method: str
    path: str
    query: dict
    content_type: str
    impersonate_user: str | None
    impersonate_groups: list[str] = field(default_factory=list)
    verb: str = ""
    plural: str = ""
    body: object = None
    at: float = field(default_factory=time.perf_counter)  # when the request reached the fake


@dataclass
class Target:
    kind: Kind
    namespace: str
    name: str
    subresource: str


def parse_path(path: str) -> Target | None:
    """`/api/v1/namespaces/ns/pods/name/log` and friends → Target, None for unknown URLs."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    kind = BY_PATH.get((group, version, rest[0]))
    if kind is None:
        return None
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    return Target(kind, namespace, name, sub)


def status_response(err: ApiError) -> web.Response:
    return web.json_response(err.status, status=err.code)


def build_app(fake: FakeKube) -> web.Application:
    """The aiohttp application serving the fake's API."""
    app = web.Application(middlewares=[_errors_middleware])
    app[FAKE] = fake
    for path, body in (
        ("/version", VERSION),
        ("/api", {"kind": "APIVersions", "versions": ["v1"]}),
        ("/apis", group_list()),
        ("/api/v1", resource_list("", "v1")),
    ):
        for url in (path, path + "/"):
            app.router.add_get(url, lambda r, body=body: web.json_response(body))
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    return app


@web.middleware
async def _errors_middleware(request: web.Request, handler):
    fake: FakeKube = request.app[FAKE]
    try:
        _authenticate(fake, request)
        if fake.delay:
            await asyncio.sleep(fake.delay)
        return await handler(request)
    except ApiError as err:
        return status_response(err)
    except web.HTTPException:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug in the fake answers 500, as a server would
        log.exception("fake kube: internal error")
        return status_response(ApiError(500, "InternalError", f"Internal error occurred: {exc!r}"))


def _authenticate(fake: FakeKube, request: web.Request) -> None:
    if fake.anonymous and "Authorization" not in request.headers:
        return  # like --anonymous-auth: kubectl sends no bearer token over plain HTTP
    if request.headers.get("Authorization") != f"Bearer {fake.token}":
        fake.record(
            RecordedRequest(
                request.method,
                request.path,
                dict(request.query),
                request.content_type,
                None,
                verb="unauthenticated",
            )
        )
        raise unauthorized()


async def _dispatch(request: web.Request) -> web.StreamResponse:
    fake: FakeKube = request.app[FAKE]
    parts = [p for p in request.path.split("/") if p]
    if parts[:1] == ["apis"] and len(parts) == 3 and request.method == "GET":
        return web.json_response(resource_list(parts[1], parts[2]))
    target = parse_path(request.path)
    if target is None:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    body = await _read_body(request)
    verb = _verb(request, target)
    fake.record(
        RecordedRequest(
            request.method,
            request.path,
            dict(request.query),
            request.content_type,
            request.headers.get("Impersonate-User"),
            request.headers.getall("Impersonate-Group", []),
            verb,
            target.kind.plural,
            body,
        )
    )
    try:
        who = authz.acting(fake, request)
    except authz.ImpersonationError as err:
        text = f'Internal Server Error: "{request.path_qs}": {err}'
        return web.Response(status=500, text=text + "\n", content_type="text/plain")
    authz.check(fake, who, target.kind, target.name, verb, target.namespace)
    if verb == "watch":
        return await watching.watch(request, fake, target)
    return await fake.on_loop_call(handlers.handle, fake, request, target, verb, body, who)


async def _read_body(request: web.Request):
    if request.method not in ("POST", "PUT", "PATCH", "DELETE") or not request.can_read_body:
        return None
    raw = await request.read()
    if not raw:
        return None
    if request.content_type == protobuf.CONTENT_TYPE:
        return protobuf.decode(raw)
    try:
        if "yaml" in request.content_type:
            return yaml.safe_load(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as err:
        raise bad_request(f"error decoding request body: {err}") from None


def _verb(request: web.Request, target: Target) -> str:
    if request.method == "GET":
        if target.name:
            return "get"
        return "watch" if request.query.get("watch") in ("true", "1") else "list"
    return _VERB_BY_METHOD.get(request.method, request.method.lower())

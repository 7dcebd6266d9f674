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

from .kinds import BY_PATH, Kind, group_list, resource_list
from .patching import json_patch, merge_patch
from .selectors import field_matcher, label_matcher
from .statuses import ApiError, bad_request, forbidden, gone, unauthorized
from .store import Subscriber

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
    _authorize(fake, request, target, verb)
    if verb == "watch":
        return await _watch(request, fake, target)
    return await fake.on_loop_call(_handle, fake, request, target, verb, body)


async def _read_body(request: web.Request):
    if request.method not in ("POST", "PUT", "PATCH", "DELETE") or not request.can_read_body:
        return None
    raw = await request.read()
    if not raw:
        return None
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


def _authorize(fake: FakeKube, request: web.Request, target: Target, verb: str) -> None:
    user = request.headers.get("Impersonate-User") or "k8or-test"
    if fake.is_forbidden(verb, target.kind.plural, target.namespace, user):
        raise forbidden(target.kind, target.name, verb, user, target.namespace or None)


async def _handle(
    fake: FakeKube, request: web.Request, target: Target, verb: str, body
) -> web.StreamResponse:
    api, kind, ns, name = fake.api, target.kind, target.namespace, target.name
    query = request.query
    manager = query.get("fieldManager") or _agent_manager(request)
    dry_run = query.get("dryRun") == "All"
    if target.subresource == "scale" and kind.kind in ("Deployment", "ReplicaSet"):
        return web.json_response(_scale(fake, target, verb, body, request.content_type, manager))
    if verb == "list":
        namespace = ns if kind.namespaced and ns else None
        return web.json_response(
            api.list(kind, namespace, query.get("labelSelector"), query.get("fieldSelector"))
        )
    if verb == "get":
        if target.subresource == "log":
            return web.Response(
                text=fake.pod_log(ns, name, query.get("container")), content_type="text/plain"
            )
        return web.json_response(api.get(kind, ns, name))
    if verb == "create":
        return web.json_response(api.create(kind, ns, body or {}, manager, dry_run), status=201)
    if verb == "update":
        return web.json_response(api.replace(kind, ns, name, body or {}, manager, target.subresource))
    if verb == "patch":
        force = query.get("force") in ("true", "1")
        if "apply-patch" not in request.content_type:
            manager = query.get("fieldManager") or manager
        else:
            manager = query.get("fieldManager")  # apply has no default manager
        existed = fake.store.get(kind, ns, name) is not None
        patched = api.patch(kind, ns, name, body, request.content_type, manager, force, target.subresource)
        return web.json_response(patched, status=200 if existed else 201)  # apply may create
    if verb == "delete":
        options = body if isinstance(body, dict) else {}
        policy = query.get("propagationPolicy") or options.get("propagationPolicy")
        if options.get("orphanDependents") is True:
            policy = "Orphan"
        grace = options.get("gracePeriodSeconds", query.get("gracePeriodSeconds"))
        rv = (options.get("preconditions") or {}).get("resourceVersion")
        return web.json_response(
            api.delete(kind, ns, name, policy, None if grace is None else int(grace), rv)
        )
    raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")


def _agent_manager(request: web.Request) -> str:
    """The API server names an unnamed Update manager after the client's user agent."""
    return (request.headers.get("User-Agent") or "unknown").split("/")[0]


async def _watch(request: web.Request, fake: FakeKube, target: Target) -> web.StreamResponse:
    """Stream JSON lines {type, object}: the initial state or history after resourceVersion, then live."""
    match_labels = label_matcher(request.query.get("labelSelector"))
    match_fields = field_matcher(request.query.get("fieldSelector"))
    namespace = target.namespace if target.kind.namespaced and target.namespace else None

    def wanted(obj: dict) -> bool:
        in_ns = namespace is None or obj["metadata"].get("namespace") == namespace
        return in_ns and match_labels(obj) and match_fields(obj)

    sub = Subscriber(target.kind)
    backlog = await fake.on_loop_call(
        _subscribe, fake, sub, target.kind, request.query.get("resourceVersion")
    )
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    timeout = float(request.query.get("timeoutSeconds") or 1800)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        for event_type, obj in backlog:
            if event_type == "ERROR" or wanted(obj):
                await response.write((json.dumps({"type": event_type, "object": obj}) + "\n").encode())
        while (remaining := deadline - loop.time()) > 0:
            try:
                event = await asyncio.wait_for(sub.queue.get(), remaining)
            except TimeoutError:
                break
            if wanted(event.obj):
                await response.write((json.dumps({"type": event.type, "object": event.obj}) + "\n").encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        await fake.on_loop_call(_unsubscribe, fake, sub)
    return response


async def _subscribe(fake: FakeKube, sub: Subscriber, kind: Kind, rv: str | None) -> list[tuple[str, dict]]:
    store = fake.store
    store.subscribers.append(sub)
    if not rv or rv == "0":
        return [("ADDED", obj) for obj in store.list(kind)]
    since = int(rv)
    oldest = store.history[0].rv if store.history else store.last_rv + 1
    if since < oldest - 1 and since < store.last_rv:
        return [("ERROR", gone(f"too old resource version: {since} ({oldest})").status)]
    return [(e.type, e.obj) for e in store.history if e.rv > since and e.kind.plural == kind.plural]


async def _unsubscribe(fake: FakeKube, sub: Subscriber) -> None:
    if sub in fake.store.subscribers:
        fake.store.subscribers.remove(sub)


def _scale(fake: FakeKube, target: Target, verb: str, body, content_type: str, manager: str) -> dict:
    """The /scale subresource: an autoscaling/v1 Scale over spec.replicas (kubectl scale uses it)."""
    api, kind, ns, name = fake.api, target.kind, target.namespace, target.name
    if verb in ("update", "patch"):
        current = api.get(kind, ns, name)
        wanted = _scale_view(current)
        if verb == "update":
            wanted = body or {}
        elif "json-patch" in content_type:
            wanted = json_patch(wanted, body or [])
        else:
            wanted = merge_patch(wanted, body or {})
        replicas = (wanted.get("spec") or {}).get("replicas")
        api.patch(
            kind, ns, name, {"spec": {"replicas": replicas}}, "application/merge-patch+json", manager, False
        )
    return _scale_view(api.get(kind, ns, name))


def _scale_view(obj: dict) -> dict:
    meta = obj["metadata"]
    labels = ((obj["spec"].get("selector") or {}).get("matchLabels")) or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        },
        "spec": {"replicas": obj["spec"].get("replicas", 1)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        },
    }

"""One resource request, once routed and authorized: the verb, its query parameters, the answer.

Query parameters read as the API server reads them (staging/src/k8s.io/apiserver/pkg/endpoints/
handlers): `dryRun` must be `All` (anything else is a 422 on the request's options object, e.g.
`CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Yes"}: supported
values: "All"`) and applies to every write, apply and delete included; `fieldValidation` defaults to
Warn; each warning is a `Warning: 299 - "..."` header.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aiohttp import web

from . import eventsv1, logs
from .apiserver import APPLY, Write, patched
from .authz import Identity, allowed, reason
from .kinds import BY_KIND, EVENTS_V1
from .patching import json_patch, merge_patch
from .statuses import ApiError, invalid_options
from .unknown_fields import check_directive

if TYPE_CHECKING:
    from .fake import FakeKube
    from .server import Target

_OPTIONS = {
    "create": "CreateOptions",
    "update": "UpdateOptions",
    "patch": "PatchOptions",
    "delete": "DeleteOptions",
}


def write_options(query, verb: str) -> Write:
    """What the request's query says about a write."""
    dry_run = query.getall("dryRun", [])
    if any(value != "All" for value in dry_run):
        listed = ", ".join(json.dumps(v) for v in dry_run)
        raise invalid_options(
            _OPTIONS[verb], "dryRun", f'Unsupported value: []string{{{listed}}}: supported values: "All"'
        )
    return Write(dry_run=bool(dry_run), validation=check_directive(query.get("fieldValidation")))


def respond(body: dict, status: int = 200, write: Write | None = None) -> web.Response:
    response = web.json_response(body, status=status)
    for warning in write.warnings if write else []:
        response.headers.add("Warning", "299 - " + json.dumps(warning))
    return response


async def handle(
    fake: FakeKube, request: web.Request, target: Target, verb: str, body, who: Identity
) -> web.StreamResponse:
    if target.kind.kind == "SelfSubjectAccessReview":
        if verb != "create":
            raise ApiError(
                405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
            )
        return web.json_response(access_review(fake, who, body), status=201)
    if target.kind is EVENTS_V1:
        return events_v1(fake, request, target, verb, body)
    api, kind, ns, name = fake.api, target.kind, target.namespace, target.name
    query = request.query
    manager = query.get("fieldManager") or agent_manager(request)
    if target.subresource == "scale" and kind.kind in ("Deployment", "ReplicaSet"):
        return web.json_response(scale(fake, target, verb, body, request.content_type, manager))
    if verb == "list":
        namespace = ns if kind.namespaced and ns else None
        return web.json_response(list_options(api, kind, namespace, query))
    if verb == "get":
        if target.subresource == "log":
            text = logs.read(api.get(kind, ns, name), query.get("container"), fake.logs, query)
            return web.Response(text=text, content_type="text/plain")
        return web.json_response(api.get(kind, ns, name))
    if verb not in _OPTIONS:
        raise ApiError(
            405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
        )
    write = write_options(query, verb)
    if verb == "create":
        return respond(api.create(kind, ns, body or {}, manager, write), 201, write)
    if verb == "update":
        return respond(
            api.replace(kind, ns, name, body or {}, manager, target.subresource, write), 200, write
        )
    if verb == "patch":
        return _patch(fake, request, target, body, write)
    return _delete(fake, request, target, body, write)


def list_options(api, kind, namespace: str | None, query) -> dict:
    """A list with the query's selectors and paging."""
    selectors = (query.get("labelSelector"), query.get("fieldSelector"))
    return api.list(kind, namespace, *selectors, query.get("limit"), query.get("continue"))


def _patch(fake: FakeKube, request: web.Request, target: Target, body, write: Write) -> web.Response:
    query, ctype = request.query, request.content_type
    force = query.get("force") in ("true", "1")
    # apply has no default manager; the other patches are named after the client, as Update is
    manager = (
        query.get("fieldManager") if APPLY in ctype else (query.get("fieldManager") or agent_manager(request))
    )
    existed = fake.store.get(target.kind, target.namespace, target.name) is not None
    patched = fake.api.patch(
        target.kind, target.namespace, target.name, body, ctype, manager, force, target.subresource, write
    )
    return respond(patched, 200 if existed else 201, write)  # apply may create


def _delete(fake: FakeKube, request: web.Request, target: Target, body, write: Write) -> web.Response:
    query = request.query
    options = body if isinstance(body, dict) else {}
    policy = query.get("propagationPolicy") or options.get("propagationPolicy")
    if options.get("orphanDependents") is True:
        policy = "Orphan"
    grace = options.get("gracePeriodSeconds", query.get("gracePeriodSeconds"))
    rv = (options.get("preconditions") or {}).get("resourceVersion")
    if options.get("dryRun"):
        write = write_options(_Query({"dryRun": options["dryRun"]}), "delete")
    gone = fake.api.delete(
        target.kind, target.namespace, target.name, policy, None if grace is None else int(grace), rv, write
    )
    return respond(gone, 200, write)


def events_v1(fake: FakeKube, request: web.Request, target: Target, verb: str, body) -> web.Response:
    """events.k8s.io/v1 over the stored core/v1 Events (eventsv1.py): converted in and out."""
    api, core, ns, name = fake.api, BY_KIND["Event"], target.namespace, target.name
    query = request.query
    if verb == "list":
        return web.json_response(eventsv1.from_core_list(list_options(api, core, ns or None, query)))
    if verb == "get":
        return web.json_response(eventsv1.from_core(api.get(core, ns, name)))
    write = write_options(query, verb)
    if verb == "delete":
        return respond(eventsv1.from_core(api.delete(core, ns, name, None, write=write)), 200, write)
    if verb == "create":
        if isinstance(body, dict):
            eventsv1.validate_create(target.kind, body)
        created = api.create(core, ns, eventsv1.to_core(body or {}), agent_manager(request), write)
        return respond(eventsv1.from_core(created), 201, write)
    current = eventsv1.from_core(api.get(core, ns, name))
    if verb == "patch" and APPLY in request.content_type:
        raise ApiError(415, "UnsupportedMediaType", "the fake serves no server-side apply on events.k8s.io")
    wanted = patched(current, body, request.content_type.split(";")[0]) if verb == "patch" else body
    stored = api.replace(core, ns, name, eventsv1.to_core(wanted or {}), agent_manager(request), "", write)
    return respond(eventsv1.from_core(stored), 200, write)


def access_review(fake: FakeKube, who: Identity, body) -> dict:
    """SelfSubjectAccessReview: may the requester (or whom it impersonates) do this? Answered by the
    same rules that authorize its requests (authz.py); nothing is stored."""
    spec = (body or {}).get("spec") or {}
    attributes = spec.get("resourceAttributes") or {}
    verb, resource = attributes.get("verb", ""), attributes.get("resource", "")
    namespace = attributes.get("namespace", "")
    ok = allowed(fake, who, verb, resource, namespace)
    status = {"allowed": ok, "reason": reason(fake, who, verb, resource) if ok else ""}
    if not ok and any(r.matches(verb, resource, namespace, who.user) for r in fake.forbid_rules):
        status["denied"] = True
    return {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }


class _Query(dict):
    """DeleteOptions in the body, read like the query's parameters."""

    def getall(self, key: str, default: list) -> list:
        return list(self.get(key, default))


def agent_manager(request: web.Request) -> str:
    """The API server names an unnamed Update manager after the client's user agent."""
    return (request.headers.get("User-Agent") or "unknown").split("/")[0]


def scale(fake: FakeKube, target: Target, verb: str, body, content_type: str, manager: str) -> dict:
    """The /scale subresource: an autoscaling/v1 Scale over spec.replicas (kubectl scale uses it)."""
    api, kind, ns, name = fake.api, target.kind, target.namespace, target.name
    if verb in ("update", "patch"):
        wanted = scale_view(api.get(kind, ns, name))
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
    return scale_view(api.get(kind, ns, name))


def scale_view(obj: dict) -> dict:
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

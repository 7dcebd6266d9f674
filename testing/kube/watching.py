"""Watch: JSON lines {type, object}, from the initial state or from history after a resourceVersion.

A resourceVersion older than the history kept is answered with one ERROR event carrying a 410
Expired Status (staging/src/k8s.io/apiserver/pkg/storage/cacher: "too old resource version").
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from aiohttp import web

from . import eventsv1
from .kinds import EVENTS_V1, Kind
from .selectors import field_matcher, label_matcher
from .statuses import gone
from .store import Subscriber

if TYPE_CHECKING:
    from .fake import FakeKube
    from .server import Target


async def watch(request: web.Request, fake: FakeKube, target: Target) -> web.StreamResponse:
    """Stream JSON lines {type, object}: the initial state or history after resourceVersion, then live."""
    match_labels = label_matcher(request.query.get("labelSelector"))
    match_fields = field_matcher(request.query.get("fieldSelector"), target.kind)
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
                await response.write(_line(event_type, obj, target.kind))
        while (remaining := deadline - loop.time()) > 0:
            try:
                event = await asyncio.wait_for(sub.queue.get(), remaining)
            except TimeoutError:
                break
            if wanted(event.obj):
                await response.write(_line(event.type, event.obj, target.kind))
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        await fake.on_loop_call(_unsubscribe, fake, sub)
    return response


def _line(event_type: str, obj: dict, kind: Kind) -> bytes:
    """One watch event; an events.k8s.io watch sees the stored core/v1 Events converted."""
    if kind is EVENTS_V1 and event_type != "ERROR":
        obj = eventsv1.from_core(obj)
    return (json.dumps({"type": event_type, "object": obj}) + "\n").encode()


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

"""Informer-style watches of one namespace: Pods, Events, Deployments and Jobs, resumable.

Each `ResourceWatch` lists once (or resumes from a stored resourceVersion), then watches from the
newest resourceVersion it has seen, in slices of `WATCH_SLICE` seconds so that `stop()` ends it
promptly. A 410 Gone (the version is older than the server's history) means relist; any other error
backs off (1 s doubling to 30 s) and retries. Objects arrive as the API server's JSON (`raw_object`),
each with the event type; a relist arrives as one `LISTED` call with every object.

It blocks: run it in a thread (`NamespaceWatch.start`). The cursor callback receives each
resourceVersion that a restart may resume from, so a new leader continues where the old one stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .target import ClusterTarget

log = logging.getLogger(__name__)

LISTED = "LISTED"  # a full list: every object in `objects`
WATCH_SLICE = 5  # seconds per watch request; also how long stop() may take
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0
KINDS = ("pods", "events", "deployments", "jobs")
GONE = 410

Obj = dict[str, Any]
Sink = Callable[[str, str, list[Obj]], None]  # (kind, event type or LISTED, objects)
Cursor = Callable[[str, str], None]  # (kind, resourceVersion)


def _list_call(kube_client: Any, kind: str) -> Callable[..., Any]:
    """The namespaced list function the kubernetes client offers for `kind`."""
    from kubernetes.client import AppsV1Api, BatchV1Api, CoreV1Api

    if kind == "pods":
        return CoreV1Api(kube_client).list_namespaced_pod
    if kind == "events":
        return CoreV1Api(kube_client).list_namespaced_event
    if kind == "deployments":
        return AppsV1Api(kube_client).list_namespaced_deployment
    return BatchV1Api(kube_client).list_namespaced_job


@dataclass
class ResourceWatch:
    """One kind in one namespace, listed then watched until `stop` is set."""

    target: ClusterTarget
    kind: str
    sink: Sink
    cursor: Cursor = lambda kind, version: None
    resume_from: str = ""  # a stored resourceVersion: watch from it instead of listing first
    stop: threading.Event = field(default_factory=threading.Event)
    relists: int = 0

    def run(self) -> None:
        """List and watch until stopped; errors back off, 410 relists."""
        version, delay = self.resume_from, BACKOFF_FIRST
        client = self.target.api_client()
        try:
            while not self.stop.is_set():
                try:
                    if not version:
                        version = self._list(client)
                    version = self._watch(client, version)
                    delay = BACKOFF_FIRST
                except Exception as exc:  # noqa: BLE001 - a watch must outlive any one failure
                    if getattr(exc, "status", None) == GONE:
                        self.relists += 1
                        version = ""
                        continue
                    log.warning("watch of %s failed, retrying in %.0f s: %s", self.kind, delay, exc)
                    self.stop.wait(delay)
                    delay = min(delay * 2, BACKOFF_MAX)
        finally:
            client.close()

    def _list(self, client: Any) -> str:
        listed = _list_call(client, self.kind)(self.target.namespace, _preload_content=False)
        data = _json(listed)
        version = str((data.get("metadata") or {}).get("resourceVersion", ""))
        self.sink(self.kind, LISTED, list(data.get("items") or []))
        self.cursor(self.kind, version)
        return version

    def _watch(self, client: Any, version: str) -> str:
        from kubernetes.watch import Watch

        watch = Watch()
        stream = watch.stream(
            _list_call(client, self.kind),
            self.target.namespace,
            resource_version=version,
            timeout_seconds=WATCH_SLICE,
            allow_watch_bookmarks=True,
        )
        for event in stream:
            obj: Obj = event.get("raw_object") or {}
            version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
            if event.get("type") != "BOOKMARK":
                self.sink(self.kind, str(event.get("type")), [obj])
            self.cursor(self.kind, version)
            if self.stop.is_set():
                watch.stop()
                break
        return version


def _json(response: Any) -> Obj:
    import json

    try:
        data: Obj = json.loads(response.data)
        return data
    finally:
        response.release_conn()


@dataclass
class NamespaceWatch:
    """The four watches of one namespace, each in its own daemon thread."""

    target: ClusterTarget
    sink: Sink
    cursor: Cursor = lambda kind, version: None
    resume: dict[str, str] = field(default_factory=dict)  # kind -> stored resourceVersion
    watches: list[ResourceWatch] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> NamespaceWatch:
        stop = threading.Event()
        for kind in KINDS:
            watch = ResourceWatch(self.target, kind, self.sink, self.cursor, self.resume.get(kind, ""), stop)
            thread = threading.Thread(
                target=watch.run, name=f"watch-{self.target.namespace}-{kind}", daemon=True
            )
            self.watches.append(watch)
            self.threads.append(thread)
            thread.start()
        return self

    def stop(self, wait: float = 0.0) -> None:
        for watch in self.watches:
            watch.stop.set()
        for thread in self.threads if wait else ():
            thread.join(wait)

"""Informer-style watches against the fake API server with the real kubernetes client: a list then
a watch, resume from a stored resourceVersion, relist on 410 Gone, back-off while refused."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cluster.deploy import deploy
from cluster.watch import LISTED, NamespaceWatch, ResourceWatch

WAIT = 30.0


class Seen:
    """What a watch handed over, from its thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str, list[dict]]] = []
        self.versions: list[str] = []

    def sink(self, kind: str, type_: str, objs: list[dict]) -> None:
        with self.lock:
            self.calls.append((kind, type_, objs))

    def cursor(self, kind: str, version: str) -> None:
        with self.lock:
            self.versions.append(version)

    def names(self, type_: str) -> list[str]:
        with self.lock:
            return [o["metadata"]["name"] for _, t, objs in self.calls if t == type_ for o in objs]


def until(check: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"gave up waiting for {what}")


def running(watch: ResourceWatch) -> threading.Thread:
    thread = threading.Thread(target=watch.run, daemon=True)
    thread.start()
    return thread


def test_lists_then_watches_and_hands_over_the_api_servers_json(fake_kube, target):
    deploy(target, "web", "nginx:1.27", 1)
    seen = Seen()
    watch = NamespaceWatch(target, seen.sink, seen.cursor).start()
    try:
        until(lambda: "web" in seen.names(LISTED), "the listed Deployment")
        deploy(target, "api", "nginx:1.27", 1)
        until(lambda: "api" in seen.names("ADDED"), "the new Deployment, watched")
        until(lambda: any(n.startswith("api-") for n in seen.names("MODIFIED")), "its pod, watched")
        (pod,) = [o for k, t, objs in seen.calls if k == "pods" and t == "MODIFIED" for o in objs][-1:]
        assert pod["kind"] == "Pod" and pod["metadata"]["namespace"] == "default" and pod["status"]["phase"]
        assert all(int(v) > 0 for v in seen.versions)
    finally:
        watch.stop(wait=10)
    assert not any(t.is_alive() for t in watch.threads)


def test_resumes_from_a_stored_resource_version_without_listing(fake_kube, target):
    deploy(target, "old", "nginx:1.27", 1)
    version = fake_kube.call(lambda: str(fake_kube.store.last_rv))
    deploy(target, "new", "nginx:1.27", 1)
    seen = Seen()
    watch = ResourceWatch(target, "deployments", seen.sink, seen.cursor, resume_from=version)
    thread = running(watch)
    try:
        until(lambda: "new" in seen.names("ADDED"), "the Deployment made after the stored version")
        assert "old" not in seen.names("ADDED") and seen.names(LISTED) == [] and watch.relists == 0
    finally:
        watch.stop.set()
        thread.join(10)


def test_a_version_the_server_no_longer_has_means_relist(fake_kube, target):
    deploy(target, "web", "nginx:1.27", 1)
    fake_kube.call(lambda: fake_kube.store.history.clear())  # the server compacted its history
    seen = Seen()
    watch = ResourceWatch(target, "deployments", seen.sink, seen.cursor, resume_from="1")
    thread = running(watch)
    try:
        until(lambda: "web" in seen.names(LISTED), "a relist after 410 Gone")
        assert watch.relists == 1
    finally:
        watch.stop.set()
        thread.join(10)


def test_backs_off_while_refused_and_recovers(fake_kube, target):
    fake_kube.call(lambda: fake_kube.forbid("list", "jobs"))
    seen = Seen()
    watch = ResourceWatch(target, "jobs", seen.sink, seen.cursor)
    thread = running(watch)
    try:
        until(lambda: len([r for r in fake_kube.api_requests() if r.plural == "jobs"]) >= 2, "a retry")
        assert seen.calls == []
        fake_kube.call(lambda: fake_kube.forbid_rules.clear())
        until(lambda: seen.calls and seen.calls[0][:2] == ("jobs", LISTED), "the list once allowed")
    finally:
        watch.stop.set()
        thread.join(10)

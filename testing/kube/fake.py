"""FakeKube: one fake cluster — store, API semantics, controllers, runtime — served over real HTTP.

The server and controllers run on their own event loop in a background thread, so synchronous code
under test (the `kubernetes` client) and async tests can both talk to it. Test-side helpers hop onto
that loop, so nothing touches the store from two threads.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from aiohttp import web

from . import admission, authz, logs
from .apiserver import ApiServer
from .clock import FakeClock
from .controllers.deployment import DeploymentController
from .controllers.gc import GarbageCollector
from .controllers.jobs import JobController
from .controllers.kubelet import Kubelet
from .controllers.recorder import EventRecorder
from .controllers.replicaset import ReplicaSetController
from .controllers.scheduler import Scheduler
from .controllers.volumes import VolumeController
from .kinds import BY_KIND
from .runtime import ContainerRuntime, image_repo
from .server import RecordedRequest, build_app
from .store import ObjectStore, clone

log = logging.getLogger(__name__)


@dataclass
class ForbidRule:
    verb: str | None
    plural: str | None
    namespace: str | None
    user: str | None

    def matches(self, verb: str, plural: str, namespace: str, user: str) -> bool:
        return all(
            want is None or want == got
            for want, got in (
                (self.verb, verb),
                (self.plural, plural),
                (self.namespace, namespace),
                (self.user, user),
            )
        )


class FakeKube:
    """A fake Kubernetes cluster. `start()` serves it on 127.0.0.1:<random port>."""

    def __init__(self, tick: float = 0.02, speed: float = 600.0, crash_backoff: float = 10.0):
        self.store = ObjectStore()
        self.api = ApiServer(self.store)
        self.clock = FakeClock(speed)
        self.tick_seconds = tick
        self.crash_backoff = crash_backoff  # fake seconds between crash-loop restarts
        self.runtime = ContainerRuntime()
        self.token = "fake-" + secrets.token_hex(16)
        self.requests: list[RecordedRequest] = []
        self.forbid_rules: list[ForbidRule] = []
        self.rbac: dict[str, set[tuple[str, str]]] | None = None  # user -> {(verb, plural)} (authz.py)
        self.group_rbac: dict[str, set[tuple[str, str]]] = {}  # group -> {(verb, plural)}
        self.failing_provisioners: set[str] = set()
        self.errors: list[str] = []  # controller failures (a bug in the fake, or an invalid write)
        self.paused = False  # controllers stand still (to observe states they would pass quickly)
        self.anonymous = False  # accept requests without a token (kubectl over plain HTTP)
        self.delay = 0.0  # seconds every request waits before it is answered (timeouts)
        self.logs: dict[str, str] = {}  # containerID -> what that container instance wrote
        self.events = EventRecorder(self)
        self.controllers = [
            GarbageCollector(self),
            DeploymentController(self),
            ReplicaSetController(self),
            JobController(self),
            Scheduler(self),
            VolumeController(self),
            Kubelet(self),
        ]
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task | None = None
        self._lock = threading.Lock()

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeKube:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name="fake-kube", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._open())
        ready.set()
        self._loop.run_forever()

    async def _open(self) -> None:
        self._runner = web.AppRunner(build_app(self), shutdown_timeout=0.05)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._ticker = asyncio.ensure_future(self._tick_forever())

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            if self.paused:
                continue
            try:
                self.reconcile()
            except Exception as exc:  # noqa: BLE001 - keep ticking; tests assert `errors` is empty
                log.exception("fake kube: controller failed")
                self.errors.append(repr(exc))

    def reconcile(self) -> None:
        """One pass of every controller."""
        for controller in self.controllers:
            controller.tick()

    def stop(self) -> None:
        if not self._loop:
            return
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)  # type: ignore[union-attr]
        self._loop.close()

    async def _close(self) -> None:
        self._ticker.cancel()  # type: ignore[union-attr]
        await self._runner.cleanup()  # type: ignore[union-attr]

    # --- plumbing used by the server ---------------------------------------------------------

    async def on_loop_call(self, fn, *args):
        return await fn(*args)

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def is_forbidden(self, verb: str, plural: str, namespace: str, user: str) -> bool:
        """Whether `user` (with no groups but system:authenticated) would be refused (see authz.py)."""
        who = (
            authz.requester(self)
            if user == authz.TOKEN_USER
            else authz.Identity(user, (authz.AUTHENTICATED,))
        )
        return not authz.allowed(self, who, verb, plural, namespace)

    def pod_log(self, namespace: str, pod: str, container: str | None, previous: bool = False) -> str:
        """What `GET pods/<pod>/log` answers (see logs.py); refusals raise ApiError."""
        options = {"previous": "true"} if previous else {}
        return logs.read(self.api.get(BY_KIND["Pod"], namespace, pod), container, self.logs, options)

    def append_log(self, container_id: str, text: str) -> None:
        """Add to the log of one container instance (the runtime keeps a file per instance)."""
        self.logs[container_id] = self.logs.get(container_id, "") + text

    # --- test-side helpers (thread-safe) -----------------------------------------------------

    def call(self, fn: Callable, *args):
        """Run `fn(*args)` on the fake's loop and return its result."""

        async def hop():
            return fn(*args)

        if self._loop is None:
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(hop(), self._loop).result(10)

    def validate_every_write(self) -> None:
        """Validate the controllers' own writes too (slower; for the fake's self-tests)."""
        self.call(setattr, self.store, "check", admission.validate_schema)

    def forbid(
        self,
        verb: str | None = None,
        plural: str | None = None,
        namespace: str | None = None,
        user: str | None = None,
    ) -> None:
        """Answer matching requests with 403 Forbidden."""
        self.forbid_rules.append(ForbidRule(verb, plural, namespace, user))

    def add(self, obj: dict) -> dict:
        """Create an object as an administrator would (defaulted and validated)."""
        kind = BY_KIND[obj["kind"]]
        ns = obj.get("metadata", {}).get("namespace", "default") if kind.namespaced else ""
        return self.call(self.api.create, kind, ns, clone(obj), "fake-admin")

    def get(self, kind: str, name: str, namespace: str = "") -> dict | None:
        return clone(self.call(self.store.get, BY_KIND[kind], namespace, name))

    def list(self, kind: str, namespace: str | None = None) -> list[dict]:
        return clone(self.call(self.store.list, BY_KIND[kind], namespace))

    def add_namespace(self, name: str) -> dict:
        return self.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    def add_node(
        self, name: str, cpu: str = "4", memory: str = "16Gi", ready: bool = True, labels: dict | None = None
    ) -> dict:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {},
        }
        created = self.add(node)
        status = {
            "capacity": {"cpu": cpu, "memory": memory, "pods": "110"},
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "reason": "KubeletReady" if ready else "KubeletNotReady",
                    "message": "kubelet is posting ready status",
                }
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.35.0",
                "osImage": "fake",
                "architecture": "amd64",
                "operatingSystem": "linux",
                "containerRuntimeVersion": "containerd://2.0",
                "kernelVersion": "6.1",
                "kubeProxyVersion": "v1.35.0",
                "machineID": "m",
                "systemUUID": "s",
                "bootID": "b",
            },
        }
        return self.call(self._set_status, "Node", name, "", status) or created

    def _set_status(self, kind: str, name: str, namespace: str, status: dict) -> dict:
        old = self.store.get(BY_KIND[kind], namespace, name)
        new = clone(old)
        new["status"] = status
        return self.store.update(BY_KIND[kind], new, old)

    def seed_image(self, image: str, files: dict[str, int]) -> None:
        """Give an image a file tree: absolute path -> size in bytes."""
        self.call(self.runtime.images.__setitem__, image_repo(image), dict(files))

    def seed_claim(self, namespace: str, claim: str, files: dict[str, int]) -> None:
        """Put files (relative path -> bytes) on a claim's volume."""
        self.call(self.runtime.claims.__setitem__, (namespace, claim), dict(files))

    def claim_files(self, namespace: str, claim: str) -> dict[str, int]:
        return dict(self.call(self.runtime.claim_tree, namespace, claim))

    def script(self, predicate: Callable[[str], bool], behaviour: str) -> None:
        """Per-test container behaviour for images matching `predicate` (see runtime.py)."""
        self.call(self.runtime.scripts.append, (predicate, behaviour))

    def api_requests(self) -> list[RecordedRequest]:
        """Requests to resource URLs (discovery and /version excluded, and access reviews: they ask
        what a user may do and need no grant, every authenticated user may make them)."""
        with self._lock:
            return [r for r in self.requests if r.plural and r.plural not in authz.SELF_REVIEWS]

    def write_kubeconfig(
        self, path: Path, contexts: dict[str, str] | None = None, unreachable: str | None = None
    ) -> Path:
        """A kubeconfig with one context per entry (context name -> default namespace)."""
        contexts = contexts or {"fake": "default"}
        clusters = [{"name": "fake", "cluster": {"server": self.url}}]
        if unreachable:
            clusters.append(
                {"name": "unreachable", "cluster": {"server": f"http://127.0.0.1:{_closed_port()}"}}
            )
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": clusters,
            "users": [{"name": "fake-user", "user": {"token": self.token}}],
            "contexts": [
                {"name": name, "context": {"cluster": "fake", "user": "fake-user", "namespace": ns}}
                for name, ns in contexts.items()
            ],
            "current-context": next(iter(contexts)),
        }
        if unreachable:
            config["contexts"].append(
                {"name": unreachable, "context": {"cluster": "unreachable", "user": "fake-user"}}
            )
        path.write_text(yaml.safe_dump(config))
        return path


def _closed_port() -> int:
    """A local port nothing listens on: bind one, then let it go."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

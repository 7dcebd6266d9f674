"""Leader election: of the replicas that could watch a cluster, exactly one does.

`LeaseElection` is the kubernetes client's own leader election (`kubernetes.leaderelection`:
`LeaderElection` over `resourcelock.leaselock.LeaseLock`, a `coordination.k8s.io/v1` Lease), the
algorithm of client-go's `tools/leaderelection`: a candidate reads the Lease; it takes it when the
Lease is missing, has no holder, or has not changed for `lease_duration` seconds of the candidate's
own clock; the holder renews `renewTime` every `retry_period` and stops leading when it could not
renew for `renew_deadline`. Every write is a PUT with the resourceVersion just read, so of two
candidates writing at once the API server refuses one (409 Conflict). Two things the Python client
leaves out are added as client-go does them: `leaseTransitions` counts the changes of holder, and a
graceful stop releases the Lease (no holder, `leaseDurationSeconds` 1) so the next replica need not
wait out the lease.

An `Election` runs in a daemon thread and tells its owner through two callbacks (called from that
thread): `on_lead` when it starts leading, `on_lose` when it stops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from .target import ClusterTarget

log = logging.getLogger(__name__)

Callback = Callable[[], object]


@dataclass(frozen=True)
class ElectionTiming:
    """client-go's three durations, in seconds; lease_duration > renew_deadline > 1.2 × retry_period."""

    lease_duration: int = 15
    renew_deadline: float = 10.0
    retry_period: float = 2.0


class Election(Protocol):
    """One replica's candidacy for one cluster."""

    def start(self, on_lead: Callback, on_lose: Callback) -> None:
        """Begin campaigning; the callbacks may run on any thread."""

    async def stop(self, release: bool = True) -> None:
        """Stop campaigning (and leading); `release` hands leadership over at once, not after it lapses."""


class Stepdown(Exception):
    """Raised inside the client's election loop to end it when the candidacy stops."""


def _lease_lock_class() -> type[Any]:
    # Imported here: the kubernetes client loads when a watch starts, not when k8or starts.
    from kubernetes.client import CoordinationV1Api
    from kubernetes.leaderelection.resourcelock import leaselock

    base: Any = leaselock.LeaseLock  # untyped

    class ElectionLease(base):  # type: ignore[misc]
        """The client's LeaseLock on our API client, counting leaseTransitions, and stoppable."""

        def __init__(self, name: str, namespace: str, identity: str, api: Any, stopping: threading.Event):
            super().__init__(name, namespace, identity)
            self.api_instance = CoordinationV1Api(api)  # not the process-wide default client
            self.stopping = stopping

        def get(self, name: str, namespace: str) -> Any:
            if self.stopping.is_set():
                raise Stepdown
            return super().get(name, namespace)

        def get_lease_spec(self, record: Any, current_spec: Any = None) -> Any:
            before = current_spec.holder_identity if current_spec is not None else record.holder_identity
            spec = super().get_lease_spec(record, current_spec)
            if before != record.holder_identity:  # a new holder: client-go's LeaderTransitions + 1
                spec.lease_transitions = (spec.lease_transitions or 0) + 1
            return spec

    return ElectionLease


class LeaseElection:
    """Leadership as a Lease `name` in the namespace of `target` (k8or's own), held by `identity`."""

    def __init__(self, target: ClusterTarget, name: str, identity: str, timing: ElectionTiming):
        self.target, self.name, self.identity, self.timing = target, name, identity, timing
        self.leading = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_lead: Callback = lambda: None
        self._on_lose: Callback = lambda: None

    def start(self, on_lead: Callback, on_lose: Callback) -> None:
        self._on_lead, self._on_lose = on_lead, on_lose
        _quiet_routine(logging.getLogger("leaderelection"))
        self._thread = threading.Thread(target=self._campaign, name=f"election-{self.name}", daemon=True)
        self._thread.start()

    async def stop(self, release: bool = True) -> None:
        import asyncio

        self._stopping.set()
        thread = self._thread
        if thread is not None:
            await asyncio.to_thread(thread.join, self.timing.retry_period + 5)
        if release and self.leading:
            await asyncio.to_thread(self._release)
        self._lost()

    def _campaign(self) -> None:
        from kubernetes.leaderelection import electionconfig, leaderelection

        api = self.target.api_client()
        lock_class = _lease_lock_class()
        try:
            while not self._stopping.is_set():
                lock = lock_class(self.name, self.target.namespace, self.identity, api, self._stopping)
                t = self.timing
                config = electionconfig.Config(
                    lock, t.lease_duration, t.renew_deadline, t.retry_period, self._led, self._lost
                )
                try:
                    leaderelection.LeaderElection(config).run()
                except Stepdown:
                    return
                except Exception as exc:  # noqa: BLE001 - the API server may be away for a while
                    log.warning("leader election for %s failed, retrying: %s", self.name, exc)
                self._lost()
                self._stopping.wait(self.timing.retry_period)
        finally:
            api.close()

    def _led(self) -> None:
        self.leading = True
        log.info("leading %s as %s", self.name, self.identity)
        self._on_lead()

    def _lost(self) -> None:
        if self.leading:
            self.leading = False
            log.info("no longer leading %s", self.name)
            self._on_lose()

    def _release(self) -> None:
        """client-go's release: no holder, a lease of 1 s, so the next candidate takes it at once."""
        from kubernetes.client import CoordinationV1Api
        from kubernetes.client.rest import ApiException

        with self.target.api_client() as api:
            leases = CoordinationV1Api(api)
            try:
                lease = leases.read_namespaced_lease(self.name, self.target.namespace)
                spec = lease.spec
                if spec is None or spec.holder_identity != self.identity:
                    return
                now = datetime.now(UTC)
                spec.holder_identity = None
                spec.lease_duration_seconds = 1
                spec.acquire_time = spec.renew_time = now
                leases.replace_namespaced_lease(self.name, self.target.namespace, lease)
            except ApiException as exc:  # someone else holds it now, or it is gone: nothing to give
                log.info("lease %s not released: %s", self.name, exc.reason)


_ROUTINE = ("yet to finish lease_duration", "successfully acquired lease", "is a follower", "renew loop")


class _Routine(logging.Filter):
    """The client logs each look at a Lease someone holds, and each renewal, at INFO: every retry
    period. Those go; refusals (a Forbidden, a Conflict) stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(part in record.getMessage() for part in _ROUTINE)


def _quiet_routine(logger: logging.Logger) -> None:
    if not any(isinstance(f, _Routine) for f in logger.filters):
        logger.addFilter(_Routine())


def lease_name(prefix: str, cluster: str) -> str:
    """`<prefix>-<cluster>` as a valid object name, distinct for clusters that slug alike."""
    import hashlib
    import re

    slug = re.sub(r"[^a-z0-9]+", "-", cluster.lower()).strip("-")[:20].strip("-")
    digest = hashlib.sha256(cluster.encode()).hexdigest()[:8]
    return f"{prefix}-{slug}-{digest}" if slug else f"{prefix}-{digest}"

"""Storage: StorageClasses, and PersistentVolumeClaims that are Bound or explain why not."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidInput, api_errors
from .events import EventLine, events_about
from .kube import Kube, connect
from .names import dns_subdomain
from .names import size as check_size
from .objects import Manifest, present
from .target import ClusterTarget

DEFAULT_PROVISIONER = "ebs.csi.aws.com"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
# What a claim's events say, by reason. The PV controller repeats its own at every resync and the
# provisioner retries, so the newest event is not the answer: a failure stands until a provisioning
# succeeds after it, and waiting for a consumer until provisioning starts after it.
_FAILED = {"ProvisioningFailed", "FailedBinding"}
_WAITING = {"WaitForFirstConsumer"}
_PROGRESS = {"ExternalProvisioning", "Provisioning", "ProvisioningSucceeded"}
_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)
NO_CLASS_FIX = (
    "The claim names no storage class and the cluster has no default one: give one with `--class <name>`, "
    "or make one the default with `storage create <name> --default`."
)


@dataclass(frozen=True)
class StorageClassSpec:
    """What `storage create <class> [--provisioner P --type gp3 ...]` asks for."""

    name: str
    provisioner: str = DEFAULT_PROVISIONER
    parameters: dict[str, str] = field(default_factory=lambda: {"type": "gp3"})
    reclaim_policy: str = "Delete"
    binding_mode: str = "Immediate"
    allow_expansion: bool = True
    default: bool = False

    def manifest(self) -> Manifest:
        meta: Manifest = {"name": self.name, "labels": {"app.kubernetes.io/managed-by": "k8or"}}
        if self.default:
            meta["annotations"] = {DEFAULT_CLASS: "true"}
        return {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": meta,
            "provisioner": self.provisioner,
            "parameters": dict(self.parameters),
            "reclaimPolicy": self.reclaim_policy,
            "volumeBindingMode": self.binding_mode,
            "allowVolumeExpansion": self.allow_expansion,
        }


def create_storage_class(target: ClusterTarget, spec: StorageClassSpec) -> Manifest:
    """Create the StorageClass; returns the stored object as a dict."""
    dns_subdomain(spec.name, "storage class name")
    if spec.binding_mode not in ("Immediate", "WaitForFirstConsumer"):
        raise InvalidInput("binding mode must be Immediate or WaitForFirstConsumer.")
    with connect(target) as kube, api_errors(f"create storage class {spec.name}"):
        from kubernetes.client import V1StorageClass

        # The client validates a plain dict into the model itself; doing it here only says so.
        created = kube.storage.create_storage_class(V1StorageClass.model_validate(spec.manifest()))
        stored: dict[str, Any] = kube.client.sanitize_for_serialization(created)
        return stored


@dataclass(frozen=True)
class ClaimStatus:
    """Where a claim stands: bound, waiting (for a first consumer), failed (with why) or pending."""

    name: str
    state: str
    phase: str
    storage_class: str | None = None
    volume: str | None = None
    capacity: str | None = None
    reason: str = ""

    @property
    def bound(self) -> bool:
        return self.state == "bound"

    @property
    def fix(self) -> str:
        """What to do about a claim that names no class and found no default one ("" otherwise)."""
        if self.bound or self.storage_class or self.state == "waiting":
            return ""
        return NO_CLASS_FIX


def claim_manifest(name: str, size: str, storage_class: str | None, access_mode: str) -> Manifest:
    spec: Manifest = {"accessModes": [access_mode], "resources": {"requests": {"storage": size}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "k8or"}},
        "spec": spec,
    }


def create_claim(
    target: ClusterTarget,
    name: str,
    size: str,
    storage_class: str | None = None,
    access_mode: str = "ReadWriteOnce",
    timeout: float = 60.0,
) -> ClaimStatus:
    """Create a PersistentVolumeClaim and wait until it is Bound, or report why it is not."""
    dns_subdomain(name, "claim name")
    check_size(size)
    if storage_class:
        dns_subdomain(storage_class, "storage class name")
    with connect(target) as kube:
        with api_errors(f"create claim {name}"):
            from kubernetes.client import V1PersistentVolumeClaim

            manifest = claim_manifest(name, size, storage_class, access_mode)
            kube.core.create_namespaced_persistent_volume_claim(
                kube.namespace, V1PersistentVolumeClaim.model_validate(manifest)
            )
        return wait_for_claim(kube, name, timeout)


def claim_status(kube: Kube, name: str) -> ClaimStatus:
    """The claim's state now, with the latest telling event when it is not Bound."""
    with api_errors(f"read claim {name}"):
        pvc = kube.core.read_namespaced_persistent_volume_claim(name, kube.namespace)
        phase = (pvc.status.phase if pvc.status else None) or "Pending"
        spec = present(pvc.spec, f"a spec for claim {name}")
        cls = spec.storage_class_name
        if phase == "Bound" and pvc.status:
            capacity = (pvc.status.capacity or {}).get("storage")
            return ClaimStatus(name, "bound", phase, cls, spec.volume_name, capacity)
        events = events_about(kube, "PersistentVolumeClaim", name)
    if not events:
        return ClaimStatus(name, "pending", phase, cls, reason="no events yet")
    state, telling = where_it_stands(events)
    return ClaimStatus(name, state, phase, cls, reason=f"{telling.reason}: {telling.message}")


def _newest(events: list[EventLine], reasons: set[str]) -> EventLine | None:
    chosen = [e for e in events if e.reason in reasons]
    return max(chosen, key=lambda e: e.last_seen or _EPOCH) if chosen else None


def where_it_stands(events: list[EventLine]) -> tuple[str, EventLine]:
    """(failed | waiting | pending, the event that says so) — by time and reason, not by position."""
    failed, waiting = _newest(events, _FAILED), _newest(events, _WAITING)
    succeeded = _newest(events, {"ProvisioningSucceeded"})
    progress = _newest(events, _PROGRESS)

    def when(e: EventLine | None) -> dt.datetime:
        return (e.last_seen if e else None) or _EPOCH

    if failed is not None and not (succeeded and when(succeeded) > when(failed)):
        return "failed", failed  # ties: the failure, as a success would have bound the claim
    if waiting is not None and not (progress and when(progress) >= when(waiting)):
        return "waiting", waiting  # ties: provisioning, which can only start once the wait is over
    return "pending", progress or max(events, key=lambda e: e.last_seen or _EPOCH)


def wait_for_claim(kube: Kube, name: str, timeout: float = 60.0) -> ClaimStatus:
    """Look at the claim until Bound; stop early when events say it waits for a consumer or failed.
    What decides is in the claim's events, which no watch on the claim sees change: it is read
    again after 0.1 s, doubling to every second (reads k8or's roles grant, nothing more)."""
    deadline = time.monotonic() + timeout
    status, pause = claim_status(kube, name), 0.1
    while status.state == "pending" and time.monotonic() < deadline:
        time.sleep(min(pause, max(deadline - time.monotonic(), 0.0)))
        pause = min(pause * 2, 1.0)
        status = claim_status(kube, name)
    return status

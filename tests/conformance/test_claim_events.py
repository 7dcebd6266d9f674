"""Behaviour 9: what the PV controller says about a claim it cannot bind yet (again at each resync,
as a count; the fake's own tests bound how often).

Sources: pkg/controller/volume/persistentvolume/pv_controller.go (syncUnboundClaim, provisionClaim:
FailedBinding without a class, ProvisioningFailed for a missing class, WaitForFirstConsumer, and
ExternalProvisioning for a class an external provisioner serves; resync every 15 s); client-go
tools/record/events_cache.go (an identical event bumps count). The provisioner named here runs
nowhere, so only the PV controller speaks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .harness import Cluster

ABSENT = "conformance.k8or.invalid"
CONTROLLER = "persistentvolume-controller"


@dataclass(frozen=True)
class Case:
    name: str
    storage_class: str | None  # None: no class at all ("")
    binding: str
    type: str
    reason: str
    message: str


EXTERNAL = (
    f"Waiting for a volume to be created either by the external provisioner '{ABSENT}' or manually by the "
    "system administrator. If volume creation is delayed, please verify that the provisioner is running "
    "and correctly registered."
)
CASES = [
    Case("external-provisioner", "absent", "Immediate", "Normal", "ExternalProvisioning", EXTERNAL),
    Case(
        "no-class",
        None,
        "Immediate",
        "Normal",
        "FailedBinding",
        "no persistent volumes available for this claim and no storage class is set",
    ),
    Case(
        "missing-class",
        "missing",
        "Immediate",
        "Warning",
        "ProvisioningFailed",
        'storageclass.storage.k8s.io "{class}" not found',
    ),
    Case(
        "wait-for-first-consumer",
        "late",
        "WaitForFirstConsumer",
        "Normal",
        "WaitForFirstConsumer",
        "waiting for first consumer to be created before binding",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_what_the_pv_controller_says_about_a_pending_claim(cluster: Cluster, case: Case) -> None:
    class_name = cluster.unique(case.storage_class) if case.storage_class else ""
    if case.storage_class and case.storage_class != "missing":
        storage_class = {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": class_name},
            "provisioner": ABSENT,
            "volumeBindingMode": case.binding,
        }
        cluster.create("storage.k8s.io/v1", "storageclasses", storage_class, namespaced=False)
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"}, "spec": spec}
    claim["spec"]["storageClassName"] = class_name
    cluster.create("v1", "persistentvolumeclaims", claim)

    def said() -> list[dict]:
        events = cluster.events_about("PersistentVolumeClaim", "data")
        return [e for e in events if e["reason"] == case.reason]

    (event,) = cluster.eventually(said, f"a {case.reason} event")
    assert (event["type"], event["source"]["component"]) == (case.type, CONTROLLER)
    assert event["message"] == case.message.replace("{class}", class_name)
    assert cluster.get("v1", "persistentvolumeclaims", "data")["status"]["phase"] == "Pending"
    reasons = {e["reason"] for e in cluster.events_about("PersistentVolumeClaim", "data")}
    assert reasons == {case.reason}  # the provisioner runs nowhere: nobody else speaks

"""The PersistentVolume controller and the CSI external provisioners: claims get volumes from their class.

After pkg/controller/volume/persistentvolume/pv_controller.go and kubernetes-csi/external-provisioner:
the PV controller looks at an unbound claim when it changes and at every resync (15 s): no class is a
FailedBinding event, a missing class a ProvisioningFailed warning, WaitForFirstConsumer waits for the
scheduler's selected node (a WaitForFirstConsumer event), and otherwise it leaves the volume to the
class's external provisioner and says so (ExternalProvisioning, "Waiting for a volume to be created
either by the external provisioner '<driver>' ..."). A running provisioner records Provisioning, then
ProvisioningSucceeded (the PV, bound at once) or ProvisioningFailed, retried with back-off (1 s
doubling, at most 5 min). Nothing provisions for a class whose provisioner is not running: one in
`fake.failing_provisioners` fails, `kubernetes.io/no-provisioner` and `*.invalid` never answer.
The pvc-protection finalizer holds a claim while a pod still uses it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from ..store import clone
from .base import POD, PV, PVC, SC, Controller
from .scheduler import SELECTED_NODE

PROTECTION = "kubernetes.io/pvc-protection"
RESYNC_SECONDS = 15.0  # --pvclaimbinder-sync-period
PV_CONTROLLER = "persistentvolume-controller"


def external_provisioning(driver: str) -> str:
    return (
        f"Waiting for a volume to be created either by the external provisioner '{driver}' or manually by "
        "the system administrator. If volume creation is delayed, please verify that the provisioner is "
        "running and correctly registered."
    )


def running(driver: str) -> bool:
    return driver != "kubernetes.io/no-provisioner" and not driver.endswith(".invalid")


@dataclass
class _Attempt:
    version: str  # the claim's resourceVersion when the PV controller last looked
    at: float  # fake-clock instant of that look
    failures: int = 0
    retry_at: float = 0.0  # the provisioner's next try (fake seconds after `at` of the failure)


class VolumeController(Controller):
    def __init__(self, fake):
        super().__init__(fake)
        self.seen: dict[str, _Attempt] = {}
        self.identity = secrets.token_hex(4)

    def tick(self) -> None:
        for pvc in self.store.list(PVC):
            if pvc["metadata"].get("deletionTimestamp"):
                self._release(pvc)
            elif not pvc["spec"].get("volumeName") and self._due(pvc):
                self._sync(pvc)
        for pv in self.store.list(PV):
            self._reclaim(pv)

    def _due(self, pvc: dict) -> bool:
        """On a change of the claim, or at the resync period."""
        attempt = self.seen.get(pvc["metadata"]["uid"])
        if attempt is None or attempt.version != pvc["metadata"]["resourceVersion"]:
            return True
        return self.fake.clock.elapsed(attempt.at) >= RESYNC_SECONDS

    def _sync(self, pvc: dict) -> None:
        uid = pvc["metadata"]["uid"]
        attempt = self.seen.setdefault(uid, _Attempt("", 0.0))
        attempt.version, attempt.at = pvc["metadata"]["resourceVersion"], self.fake.clock.mono()
        class_name = pvc["spec"].get("storageClassName")
        if not class_name:
            message = "no persistent volumes available for this claim and no storage class is set"
            return self.event(PVC, pvc, "Normal", "FailedBinding", message, PV_CONTROLLER)
        sc = self.store.get(SC, "", class_name)
        if sc is None:
            message = f'storageclass.storage.k8s.io "{class_name}" not found'
            return self.event(PVC, pvc, "Warning", "ProvisioningFailed", message, PV_CONTROLLER)
        annotations = pvc["metadata"].get("annotations") or {}
        if sc.get("volumeBindingMode") == "WaitForFirstConsumer" and SELECTED_NODE not in annotations:
            message = "waiting for first consumer to be created before binding"
            return self.event(PVC, pvc, "Normal", "WaitForFirstConsumer", message, PV_CONTROLLER)
        driver = sc["provisioner"]
        self.event(PVC, pvc, "Normal", "ExternalProvisioning", external_provisioning(driver), PV_CONTROLLER)
        if running(driver) and attempt.at >= attempt.retry_at:
            return self._provision(pvc, sc, attempt)
        return None

    def _provision(self, pvc: dict, sc: dict, attempt: _Attempt) -> None:
        """The external provisioner's turn: Provisioning, then a volume or a failure."""
        driver, meta = sc["provisioner"], pvc["metadata"]
        component = f"{driver}_{driver.split('.')[0]}-csi-controller-0_{self.identity}"
        message = (
            f'External provisioner is provisioning volume for claim "{meta["namespace"]}/{meta["name"]}"'
        )
        self.event(PVC, pvc, "Normal", "Provisioning", message, component)
        if driver in self.fake.failing_provisioners:
            attempt.failures += 1
            attempt.retry_at = attempt.at + min(2.0 ** (attempt.failures - 1), 300.0) / self.fake.clock.speed
            message = (
                f'failed to provision volume with StorageClass "{sc["metadata"]["name"]}": rpc error: code = '
                "Internal desc = could not create volume"
            )
            return self.event(PVC, pvc, "Warning", "ProvisioningFailed", message, component)
        return self._bind(pvc, sc, component)

    def _bind(self, pvc: dict, sc: dict, component: str) -> None:
        meta, spec = pvc["metadata"], pvc["spec"]
        name = f"pvc-{meta['uid']}"
        size = spec["resources"]["requests"]["storage"]
        self.store.create(
            PV,
            {
                "metadata": {
                    "name": name,
                    "annotations": {"pv.kubernetes.io/provisioned-by": sc["provisioner"]},
                    "finalizers": ["kubernetes.io/pv-protection"],
                },
                "spec": {
                    "capacity": {"storage": size},
                    "accessModes": list(spec["accessModes"]),
                    "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                    "storageClassName": sc["metadata"]["name"],
                    "volumeMode": spec.get("volumeMode", "Filesystem"),
                    "claimRef": {
                        "kind": "PersistentVolumeClaim",
                        "apiVersion": "v1",
                        "namespace": meta["namespace"],
                        "name": meta["name"],
                        "uid": meta["uid"],
                    },
                    "csi": {
                        "driver": sc["provisioner"],
                        "volumeHandle": "vol-" + secrets.token_hex(8),
                        "fsType": (sc.get("parameters") or {}).get("csi.storage.k8s.io/fstype", "ext4"),
                    },
                },
                "status": {"phase": "Bound"},
            },
        )
        new = clone(pvc)
        new["spec"]["volumeName"] = name
        new["metadata"].setdefault("annotations", {}).update(
            {
                "pv.kubernetes.io/bind-completed": "yes",
                "pv.kubernetes.io/bound-by-controller": "yes",
                "volume.kubernetes.io/storage-provisioner": sc["provisioner"],
            }
        )
        new["status"] = {
            "phase": "Bound",
            "accessModes": list(spec["accessModes"]),
            "capacity": {"storage": size},
        }
        self.save(PVC, new, pvc)
        self.event(
            PVC, pvc, "Normal", "ProvisioningSucceeded", f"Successfully provisioned volume {name}", component
        )

    def _release(self, pvc: dict) -> None:
        """Drop pvc-protection once no running pod mounts the claim."""
        if PROTECTION not in (pvc["metadata"].get("finalizers") or []):
            return
        name = pvc["metadata"]["name"]
        for pod in self.store.list(POD, pvc["metadata"]["namespace"]):
            claims = {
                (v.get("persistentVolumeClaim") or {}).get("claimName")
                for v in pod["spec"].get("volumes") or []
            }
            if name in claims and pod["status"].get("phase") not in ("Succeeded", "Failed"):
                return
        self.api.remove_finalizer(PVC, pvc, PROTECTION)

    def _reclaim(self, pv: dict) -> None:
        ref = pv["spec"].get("claimRef") or {}
        pvc = self.store.get(PVC, ref.get("namespace", ""), ref.get("name", ""))
        if pvc is not None and pvc["metadata"]["uid"] == ref.get("uid"):
            return
        if pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
            self.fake.runtime.claims.pop((ref.get("namespace", ""), ref.get("name", "")), None)
            self.api.mark_deleted(PV, pv, "Background")
            current = self.store.get(PV, "", pv["metadata"]["name"])
            if current is not None:
                self.api.remove_finalizer(PV, current, "kubernetes.io/pv-protection")
        elif pv["status"].get("phase") != "Released":
            new = clone(pv)
            new["status"] = {"phase": "Released"}
            self.save(PV, new, pv)

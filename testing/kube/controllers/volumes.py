"""The PersistentVolume controller and a dynamic provisioner: claims get volumes from their class.

Immediate classes provision at once; WaitForFirstConsumer waits until the scheduler picks a node for a
pod using the claim; a missing class or a failing provisioner leaves the claim Pending with a
ProvisioningFailed event. The pvc-protection finalizer holds a claim while a pod still uses it.
"""

from __future__ import annotations

import secrets

from ..apiserver import ApiServer
from ..store import clone
from .base import POD, PV, PVC, SC, Controller
from .scheduler import SELECTED_NODE

PROTECTION = "kubernetes.io/pvc-protection"


class VolumeController(Controller):
    def tick(self) -> None:
        for pvc in self.store.list(PVC):
            if pvc["metadata"].get("deletionTimestamp"):
                self._release(pvc)
            elif not pvc["spec"].get("volumeName"):
                self._provision(pvc)
        for pv in self.store.list(PV):
            self._reclaim(pv)

    def _provision(self, pvc: dict) -> None:
        class_name = pvc["spec"].get("storageClassName")
        if not class_name:
            return self.event(
                PVC,
                pvc,
                "Normal",
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
                "persistentvolume-controller",
            )
        sc = self.store.get(SC, "", class_name)
        if sc is None:
            return self.event(
                PVC,
                pvc,
                "Warning",
                "ProvisioningFailed",
                f'storageclass.storage.k8s.io "{class_name}" not found',
                "persistentvolume-controller",
            )
        provisioner = sc["provisioner"]
        if provisioner in self.fake.failing_provisioners or provisioner == "kubernetes.io/no-provisioner":
            return self.event(
                PVC,
                pvc,
                "Warning",
                "ProvisioningFailed",
                f'failed to provision volume with StorageClass "{class_name}": rpc error: code = '
                "Internal desc = could not create volume",
                provisioner,
            )
        annotations = pvc["metadata"].get("annotations") or {}
        if sc.get("volumeBindingMode") == "WaitForFirstConsumer" and SELECTED_NODE not in annotations:
            return self.event(
                PVC,
                pvc,
                "Normal",
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding",
                "persistentvolume-controller",
            )
        return self._bind(pvc, sc)

    def _bind(self, pvc: dict, sc: dict) -> None:
        meta, spec = pvc["metadata"], pvc["spec"]
        name = f"pvc-{meta['uid']}"
        size = spec["resources"]["requests"]["storage"]
        pv = self.store.create(
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
        new["spec"]["volumeName"] = pv["metadata"]["name"]
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
            PVC,
            pvc,
            "Normal",
            "ProvisioningSucceeded",
            f"Successfully provisioned volume {name}",
            sc["provisioner"],
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
        ApiServer(self.store).remove_finalizer(PVC, pvc, PROTECTION)

    def _reclaim(self, pv: dict) -> None:
        ref = pv["spec"].get("claimRef") or {}
        pvc = self.store.get(PVC, ref.get("namespace", ""), ref.get("name", ""))
        if pvc is not None and pvc["metadata"]["uid"] == ref.get("uid"):
            return
        if pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
            self.fake.runtime.claims.pop((ref.get("namespace", ""), ref.get("name", "")), None)
            ApiServer(self.store).mark_deleted(PV, pv, "Background")
            current = self.store.get(PV, "", pv["metadata"]["name"])
            if current is not None:
                ApiServer(self.store).remove_finalizer(PV, current, "kubernetes.io/pv-protection")
        elif pv["status"].get("phase") != "Released":
            new = clone(pv)
            new["status"] = {"phase": "Released"}
            self.save(PV, new, pv)

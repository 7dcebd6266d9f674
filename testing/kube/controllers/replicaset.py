"""The ReplicaSet controller: keep spec.replicas pods with the template, owned by the ReplicaSet."""

from __future__ import annotations

from ..apiserver import ApiServer, random_suffix
from ..store import clone
from .base import POD, RS, Controller, condition, controlled_by, owner_ref


def pod_ready(pod: dict) -> bool:
    ready = condition(pod, "Ready")
    return bool(ready and ready["status"] == "True")


def new_pod(owner_kind, owner: dict, template: dict) -> dict:
    """A pod from a template, named <owner>-<suffix> and owned by its controller."""
    meta = owner["metadata"]
    tmeta = template.get("metadata") or {}
    pod_meta = {
        "name": f"{meta['name']}-{random_suffix()}",
        "generateName": f"{meta['name']}-",
        "namespace": meta["namespace"],
        "labels": dict(tmeta.get("labels") or {}),
        "ownerReferences": [owner_ref(owner_kind, owner)],
    }
    if tmeta.get("annotations"):
        pod_meta["annotations"] = dict(tmeta["annotations"])
    spec = clone(template["spec"])
    spec.setdefault("serviceAccountName", "default")
    return {"metadata": pod_meta, "spec": spec, "status": {"phase": "Pending", "qosClass": "BestEffort"}}


class ReplicaSetController(Controller):
    def tick(self) -> None:
        for rs in self.live(RS):
            self.sync(rs)

    def sync(self, rs: dict) -> None:
        pods = [p for p in self.store.list(POD, rs["metadata"]["namespace"]) if controlled_by(p, rs)]
        active = [
            p
            for p in pods
            if not p["metadata"].get("deletionTimestamp")
            and p["status"].get("phase") not in ("Succeeded", "Failed")
        ]
        diff = rs["spec"].get("replicas", 1) - len(active)
        if diff > 0:
            for _ in range(diff):
                pod = self.store.create(POD, new_pod(RS, rs, rs["spec"]["template"]))
                self.event(
                    RS,
                    rs,
                    "Normal",
                    "SuccessfulCreate",
                    f"Created pod: {pod['metadata']['name']}",
                    "replicaset-controller",
                )
                active.append(pod)
        elif diff < 0:
            # Not-ready and unscheduled pods go first, as the real controller ranks them.
            victims = sorted(active, key=lambda p: (pod_ready(p), bool(p["spec"].get("nodeName"))))[:-diff]
            for pod in victims:
                ApiServer(self.store).mark_deleted(POD, pod, "Background")
                self.event(
                    RS,
                    rs,
                    "Normal",
                    "SuccessfulDelete",
                    f"Deleted pod: {pod['metadata']['name']}",
                    "replicaset-controller",
                )
                active.remove(pod)
        ready = sum(pod_ready(p) for p in active)
        status = {
            "replicas": len(active),
            "fullyLabeledReplicas": len(active),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": rs["metadata"]["generation"],
        }
        new = clone(rs)
        new["status"] = {k: v for k, v in status.items() if v or k in ("replicas", "observedGeneration")}
        self.save(RS, new, rs)

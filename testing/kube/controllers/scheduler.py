"""The scheduler: bind pending pods to a Ready node that fits, or say why not (FailedScheduling).

Like kube-scheduler, it records events.k8s.io/v1 events (pkg/scheduler/schedule_one.go: action
Scheduling / reason FailedScheduling, action Binding / reason Scheduled), see recorder.py.
"""

from __future__ import annotations

from ..quantity import quantity
from ..store import clone
from .base import NODE, POD, PVC, SC, Controller, condition, set_condition

SELECTED_NODE = "volume.kubernetes.io/selected-node"


def requests(pod_spec: dict, resource: str) -> float:
    return sum(
        quantity(((c.get("resources") or {}).get("requests") or {}).get(resource, 0))
        for c in pod_spec.get("containers") or []
    )


class Scheduler(Controller):
    def tick(self) -> None:
        for pod in self.live(POD):
            if not pod["spec"].get("nodeName"):
                self.schedule(pod)

    def schedule(self, pod: dict) -> None:
        nodes = [n for n in self.store.list(NODE) if _node_ready(n) and not n["spec"].get("unschedulable")]
        claim_problem = self._claims(pod)
        if claim_problem:
            return self._unschedulable(pod, claim_problem)
        reasons: dict[str, int] = {}
        fitting = [n for n in nodes if self._fits(pod, n, reasons)]
        if not fitting:
            total = len(self.store.list(NODE))
            detail = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
            return self._unschedulable(pod, f"0/{total} nodes are available: {detail or 'no nodes'}.")
        node = fitting[0]["metadata"]["name"]
        if self._wait_for_first_consumer(pod, node):
            return None
        new = clone(pod)
        new["spec"]["nodeName"] = node
        new["status"]["conditions"] = set_condition(
            new["status"].get("conditions") or [], "PodScheduled", "True", "", ""
        )
        for c in new["status"]["conditions"]:
            c.pop("reason", None) if not c.get("reason") else None
            c.pop("message", None) if not c.get("message") else None
        self.save(POD, new, pod)
        meta = pod["metadata"]
        note = f"Successfully assigned {meta['namespace']}/{meta['name']} to {node}"
        self.fake.events.emit(POD, pod, "Normal", "Scheduled", "Binding", note, "default-scheduler")
        return None

    def _claims(self, pod: dict) -> str | None:
        ns = pod["metadata"]["namespace"]
        for volume in pod["spec"].get("volumes") or []:
            name = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if not name:
                continue
            pvc = self.store.get(PVC, ns, name)
            nodes = len(self.store.list(NODE))
            if pvc is None:
                return f'0/{nodes} nodes are available: persistentvolumeclaim "{name}" not found.'
            if pvc["status"].get("phase") != "Bound" and not self._delayed_binding(pvc):
                return f"0/{nodes} nodes are available: pod has unbound immediate PersistentVolumeClaims."
        return None

    def _delayed_binding(self, pvc: dict) -> bool:
        sc = self.store.get(SC, "", pvc["spec"].get("storageClassName") or "")
        return bool(sc and sc.get("volumeBindingMode") == "WaitForFirstConsumer")

    def _wait_for_first_consumer(self, pod: dict, node: str) -> bool:
        """Delayed-binding claims get the chosen node; the pod waits until they are Bound."""
        waiting = False
        for volume in pod["spec"].get("volumes") or []:
            name = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            pvc = self.store.get(PVC, pod["metadata"]["namespace"], name) if name else None
            if pvc and pvc["status"].get("phase") != "Bound":
                waiting = True
                if SELECTED_NODE not in (pvc["metadata"].get("annotations") or {}):
                    new = clone(pvc)
                    new["metadata"].setdefault("annotations", {})[SELECTED_NODE] = node
                    self.save(PVC, new, pvc)
        return waiting

    def _fits(self, pod: dict, node: dict, reasons: dict[str, int]) -> bool:
        selector = pod["spec"].get("nodeSelector") or {}
        labels = node["metadata"].get("labels") or {}
        if any(labels.get(k) != v for k, v in selector.items()):
            reasons["node(s) didn't match Pod's node affinity/selector"] = (
                reasons.get("node(s) didn't match Pod's node affinity/selector", 0) + 1
            )
            return False
        allocatable = node.get("status", {}).get("allocatable") or {}
        used = [
            p
            for p in self.live(POD)
            if p["spec"].get("nodeName") == node["metadata"]["name"]
            and p["status"].get("phase") not in ("Succeeded", "Failed")
        ]
        for resource in ("cpu", "memory"):
            need = requests(pod["spec"], resource)
            free = quantity(allocatable.get(resource, 0)) - sum(requests(p["spec"], resource) for p in used)
            if need > free:
                reasons[f"Insufficient {resource}"] = reasons.get(f"Insufficient {resource}", 0) + 1
                return False
        return True

    def _unschedulable(self, pod: dict, message: str) -> None:
        current = condition(pod, "PodScheduled")
        if current and current.get("message") == message:
            return
        new = clone(pod)
        new["status"]["conditions"] = set_condition(
            new["status"].get("conditions") or [], "PodScheduled", "False", "Unschedulable", message
        )
        self.save(POD, new, pod)
        self.fake.events.emit(
            POD, pod, "Warning", "FailedScheduling", "Scheduling", message, "default-scheduler"
        )


def _node_ready(node: dict) -> bool:
    ready = condition(node, "Ready")
    return bool(ready and ready["status"] == "True")

"""The resource types the fake API server serves, and how their URLs and discovery look."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One REST resource: where it lives in the URL space and what its objects are called."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ("create", "delete", "get", "list", "patch", "update", "watch")

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """`deployments.apps`, as the API server names a resource in its messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_kind(self) -> str:
        """`Deployment.apps`, as a 422 names the kind (schema.GroupKind.String())."""
        return f"{self.kind}.{self.group}" if self.group else self.kind


KINDS: tuple[Kind, ...] = (
    Kind("", "v1", "namespaces", "Namespace", False, ("ns",)),
    Kind("", "v1", "nodes", "Node", False, ("no",)),
    Kind("", "v1", "persistentvolumes", "PersistentVolume", False, ("pv",)),
    Kind("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ("pvc",)),
    Kind("", "v1", "pods", "Pod", True, ("po",)),
    Kind("", "v1", "events", "Event", True, ("ev",)),
    Kind("", "v1", "services", "Service", True, ("svc",)),
    Kind("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",)),
    Kind("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    Kind("", "v1", "resourcequotas", "ResourceQuota", True, ("quota",)),
    Kind("apps", "v1", "deployments", "Deployment", True, ("deploy",)),
    Kind("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",)),
    Kind("batch", "v1", "jobs", "Job", True),
    Kind("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ("sc",)),
    Kind("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ("netpol",)),
    Kind("node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", False),
    Kind("coordination.k8s.io", "v1", "leases", "Lease", True),
    # The same stored Events as core/v1's, served in the newer shape (eventsv1.py).
    Kind("events.k8s.io", "v1", "events", "Event", True, ("ev",)),
    Kind(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        False,
        (),
        ("create",),
    ),
)

BY_PATH: dict[tuple[str, str, str], Kind] = {(k.group, k.version, k.plural): k for k in KINDS}
# By kind name; where two groups serve a kind (Event), the first — core/v1 — is the stored one.
BY_KIND: dict[str, Kind] = {}
for _kind in KINDS:
    BY_KIND.setdefault(_kind.kind, _kind)
EVENTS_V1 = BY_PATH[("events.k8s.io", "v1", "events")]


def resource_list(group: str, version: str) -> dict:
    """The APIResourceList a client reads from /api/v1 or /apis/<group>/<version>."""
    resources = []
    for k in KINDS:
        if (k.group, k.version) != (group, version):
            continue
        resources.append(
            {
                "name": k.plural,
                "singularName": k.kind.lower(),
                "namespaced": k.namespaced,
                "kind": k.kind,
                "verbs": list(k.verbs),
                "shortNames": list(k.short_names),
            }
        )
        if k.plural in (
            "deployments",
            "replicasets",
            "jobs",
            "pods",
            "persistentvolumeclaims",
            "resourcequotas",
        ):
            resources.append(
                {
                    "name": f"{k.plural}/status",
                    "singularName": "",
                    "namespaced": k.namespaced,
                    "kind": k.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        if k.plural in ("deployments", "replicasets"):
            resources.append(
                {
                    "name": f"{k.plural}/scale",
                    "singularName": "",
                    "namespaced": True,
                    "kind": "Scale",
                    "group": "autoscaling",
                    "version": "v1",
                    "verbs": ["get", "patch", "update"],
                }
            )
        if k.plural == "pods":
            resources.append(
                {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]}
            )
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def group_list() -> dict:
    """The APIGroupList served at /apis."""
    groups = sorted({(k.group, k.version) for k in KINDS if k.group})
    items = []
    for group, version in groups:
        gv = {"groupVersion": f"{group}/{version}", "version": version}
        items.append({"name": group, "versions": [gv], "preferredVersion": gv})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": items}

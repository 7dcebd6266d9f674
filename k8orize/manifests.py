"""Render the Kubernetes manifests for a k8orized app, one YAML file per concern.

Security settings come from k8orize.hardening, the single place where k8or decides what a hardened
pod looks like. Every object is namespaced, every container (init containers too) is restricted.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import hardening
from .jsontypes import JSON, JSONObject

_CPU_REQUEST, _CPU_LIMIT, _MEM_REQUEST, _MEM_LIMIT = "100m", "1", "256Mi", "1Gi"
_SKIP_SECCOMP = (
    "checkov.io/skip1",
    "CKV_K8S_31=the pod uses a Localhost seccomp profile traced from the app, stricter than runtime/default",
)
_SKIP_SECRET_ENV = (
    "checkov.io/skip2",
    "CKV_K8S_35=the app reads these settings from its environment (--env); their values come from "
    "the app's Secret, never from the image",
)
#: The Secret holding the `--env` values that look secret: its own folder, so that `manifests/*.yaml`
#: (what a pull request carries) never includes it.
SECRET_FILE = "secret/25-secret.yaml"


@dataclass(frozen=True)
class ManifestSpec:
    """What the manifests need to know about the app."""

    name: str
    image: str
    uid: int
    port: int
    health_path: str | None = None
    ready_path: str | None = None
    metrics_path: str | None = None
    localhost_profile: str | None = None
    sandbox: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    #: Variables whose values come from the app's Secret (named after the app), never written here.
    secret_env: tuple[str, ...] = ()
    storage_class: str = "k8or-gp3"
    provisioner: str = "ebs.csi.aws.com"

    @property
    def namespace(self) -> str:
        return self.name

    @property
    def labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name, "app.kubernetes.io/managed-by": "k8or"}


def _meta(spec: ManifestSpec, name: str | None = None, namespaced: bool = True) -> JSONObject:
    meta: JSONObject = {"name": name or spec.name, "labels": dict(spec.labels)}
    if namespaced:
        meta["namespace"] = spec.namespace
    return meta


def namespace(spec: ManifestSpec) -> JSONObject:
    labels = dict(spec.labels)
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = "restricted"
        labels[f"pod-security.kubernetes.io/{mode}-version"] = "latest"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": spec.name, "labels": labels}}


def service_account(spec: ManifestSpec) -> JSONObject:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(spec),
        "automountServiceAccountToken": False,
    }


def _probe(path: str | None, port: int, period: int, failures: int) -> JSONObject:
    action: JSONObject = {"httpGet": {"path": path, "port": port}} if path else {"tcpSocket": {"port": port}}
    return {**action, "periodSeconds": period, "timeoutSeconds": 5, "failureThreshold": failures}


def _env(spec: ManifestSpec) -> list[JSONObject]:
    env = {
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "HOME": "/home/app",
        "LOG_FORMAT": "json",
        **spec.env,
    }
    plain: list[JSONObject] = [
        {"name": key, "value": value} for key, value in env.items() if key not in spec.secret_env
    ]
    return plain + [_from_secret(spec, key) for key in spec.secret_env]


def _from_secret(spec: ManifestSpec, key: str) -> JSONObject:
    return {"name": key, "valueFrom": {"secretKeyRef": {"name": spec.name, "key": key}}}


def secret(spec: ManifestSpec, values: Mapping[str, str]) -> JSONObject:
    """The app's Secret: the `--env` values that look secret, base64 as the API stores them."""
    data: dict[str, JSON] = {
        key: base64.b64encode(values[key].encode()).decode("ascii") for key in spec.secret_env
    }
    return {"apiVersion": "v1", "kind": "Secret", "metadata": _meta(spec), "type": "Opaque", "data": data}


def _container(spec: ManifestSpec, mounts: list[JSONObject]) -> JSONObject:
    return {
        "name": spec.name,
        "image": spec.image,
        "imagePullPolicy": "Always",
        "ports": [{"name": "http", "containerPort": spec.port, "protocol": "TCP"}],
        "env": _env(spec),
        "resources": {
            "requests": {"cpu": _CPU_REQUEST, "memory": _MEM_REQUEST},
            "limits": {"cpu": _CPU_LIMIT, "memory": _MEM_LIMIT},
        },
        "startupProbe": _probe(spec.health_path, spec.port, 2, 30),
        "livenessProbe": _probe(spec.health_path, spec.port, 20, 3),
        "readinessProbe": _probe(spec.ready_path or spec.health_path, spec.port, 10, 3),
        "securityContext": hardening.container_security_context(spec.uid, spec.localhost_profile),
        "volumeMounts": mounts,
    }


def _pod_annotations(spec: ManifestSpec) -> dict[str, str]:
    annotations = {"k8or.io/log-format": "json", "fluentbit.io/parser": "json"}
    if spec.metrics_path:
        annotations.update(
            {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": str(spec.port),
                "prometheus.io/path": spec.metrics_path,
            }
        )
    return annotations


def deployment(
    spec: ManifestSpec,
    name: str | None = None,
    extra_volumes: list[JSONObject] | None = None,
    extra_mounts: list[JSONObject] | None = None,
    init: list[JSONObject] | None = None,
) -> JSONObject:
    """The app's Deployment; storage variants add volumes, mounts and a seeding init container."""
    volumes, mounts = hardening.writable_scratch_volumes()
    meta = _meta(spec, name)
    skips = ([_SKIP_SECCOMP] if spec.localhost_profile else []) + (
        [_SKIP_SECRET_ENV] if spec.secret_env else []
    )
    if skips:
        meta["annotations"] = dict(skips)
    pod_spec: JSONObject = {
        "serviceAccountName": spec.name,
        "automountServiceAccountToken": False,
        "securityContext": hardening.pod_security_context(spec.uid, spec.localhost_profile),
        "containers": [_container(spec, mounts + (extra_mounts or []))],
        "volumes": volumes + (extra_volumes or []),
    }
    if init:
        pod_spec["initContainers"] = init
    if spec.sandbox:
        pod_spec["runtimeClassName"] = spec.sandbox
    selector = {"app.kubernetes.io/name": spec.name, "k8or.io/variant": name or spec.name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": {**spec.labels, **selector}, "annotations": _pod_annotations(spec)},
                "spec": pod_spec,
            },
        },
    }


def service(spec: ManifestSpec) -> JSONObject:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(spec),
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": spec.name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def network_policies(spec: ManifestSpec) -> list[JSONObject]:
    """Deny everything in the namespace, then let traffic reach the app's port and DNS out."""
    deny: JSONObject = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(spec, "default-deny"),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    allow: JSONObject = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(spec, f"{spec.name}-allow"),
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": spec.name}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"ports": [{"port": spec.port, "protocol": "TCP"}]}],
            "egress": [
                {
                    "to": [
                        {"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
                    ],
                    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                }
            ],
        },
    }
    return [deny, allow]


def runtime_class(spec: ManifestSpec) -> JSONObject:
    return {
        "apiVersion": "node.k8s.io/v1",
        "kind": "RuntimeClass",
        "metadata": {"name": spec.sandbox, "labels": dict(spec.labels)},
        "handler": "runsc",
    }


def storage_class(spec: ManifestSpec) -> JSONObject:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": spec.storage_class, "labels": dict(spec.labels)},
        "provisioner": spec.provisioner,
        "parameters": {"type": "gp3", "encrypted": "true"},
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }


def claim(spec: ManifestSpec, name: str, size: str) -> JSONObject:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _meta(spec, name),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": spec.storage_class,
            "resources": {"requests": {"storage": size}},
        },
    }


def _seed_usr(spec: ManifestSpec) -> JSONObject:
    """Init container that copies the image's /usr into the /usr volume (the seed's migration step)."""
    return {
        "name": "seed-usr",
        "image": spec.image,
        "imagePullPolicy": "Always",
        "command": ["cp", "-a", "-n", "/usr/.", "/seed-usr/"],
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": hardening.container_security_context(spec.uid, spec.localhost_profile),
        "volumeMounts": [{"name": "usr", "mountPath": "/seed-usr"}],
    }


def storage_variants(spec: ManifestSpec) -> dict[str, JSONObject]:
    """The seed's two storage deployments: volumes at /mnt and /usr, and a dedicated /usr volume."""
    data: JSONObject = {"name": "data", "persistentVolumeClaim": {"claimName": f"{spec.name}-data"}}
    usr: JSONObject = {"name": "usr", "persistentVolumeClaim": {"claimName": f"{spec.name}-usr"}}
    usr_mount: JSONObject = {"name": "usr", "mountPath": "/usr", "readOnly": True}
    mnt_usr = deployment(
        spec,
        f"{spec.name}-mnt-usr",
        [data, usr],
        [{"name": "data", "mountPath": "/mnt"}, usr_mount],
        [_seed_usr(spec)],
    )
    usr_only = deployment(
        spec, f"{spec.name}-usr", [copy.deepcopy(usr)], [dict(usr_mount)], [_seed_usr(spec)]
    )
    return {"mnt-usr": mnt_usr, "usr": usr_only}


def render_all(spec: ManifestSpec, secrets: Mapping[str, str] | None = None) -> dict[str, list[JSONObject]]:
    """File name (relative to OUT/manifests) -> objects. Every file is valid on its own
    (kubernetes-validate strict). `secrets` holds the values of `spec.secret_env`: the Secret's file."""
    files = {
        "00-namespace.yaml": [namespace(spec)],
        "10-serviceaccount.yaml": [service_account(spec)],
        "20-networkpolicy.yaml": network_policies(spec),
        "30-deployment.yaml": [deployment(spec)],
        "31-service.yaml": [service(spec)],
        "40-storageclass.yaml": [storage_class(spec)],
        "41-persistentvolumeclaims.yaml": [
            claim(spec, f"{spec.name}-data", "5Gi"),
            claim(spec, f"{spec.name}-usr", "2Gi"),
        ],
    }
    variants = storage_variants(spec)
    files["50-deployment-storage-mnt-usr.yaml"] = [variants["mnt-usr"]]
    files["51-deployment-storage-usr.yaml"] = [variants["usr"]]
    if spec.sandbox:
        files["05-runtimeclass.yaml"] = [runtime_class(spec)]
    if spec.secret_env:
        files[SECRET_FILE] = [secret(spec, secrets or {})]
    return dict(sorted(files.items()))

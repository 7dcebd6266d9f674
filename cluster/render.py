"""A hardened Deployment for `deploy <app> <image> [--replicas N] [--volume claim:/path ...]`.

Security settings come only from `k8orize.hardening` (the single place for UID, seccomp and
securityContext decisions); this module adds the shape of a Deployment and the claim volumes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from k8orize import hardening

from .errors import InvalidInput
from .names import VolumeSpec, app_name, image_ref
from .objects import Manifest

NAME_LABEL = "app.kubernetes.io/name"
MANAGED_BY = {"app.kubernetes.io/managed-by": "k8or"}
# What `kubectl rollout history` shows per revision; the controller copies it onto the ReplicaSet.
CHANGE_CAUSE = "kubernetes.io/change-cause"
HOME = "/home/app"


Hook = Callable[[Manifest], Manifest]  # k8orization rules applied to a rendered Deployment


def selector(app: str) -> dict[str, str]:
    return {NAME_LABEL: app}


def _volumes(specs: Sequence[VolumeSpec]) -> tuple[list[Manifest], list[Manifest]]:
    paths = [s.path for s in specs]
    if len(set(paths)) != len(paths):
        raise InvalidInput("two volumes are mounted at the same path.")
    volumes: dict[str, Manifest] = {}
    for spec in specs:
        volumes.setdefault(
            spec.volume_name, {"name": spec.volume_name, "persistentVolumeClaim": {"claimName": spec.claim}}
        )
    mounts = [{"name": s.volume_name, "mountPath": s.path} for s in specs]
    return list(volumes.values()), mounts


def pod_template(
    app: str,
    image: str,
    volumes: Sequence[VolumeSpec] = (),
    localhost_profile: str | None = None,
    command: list[str] | None = None,
    restart_policy: str | None = None,
) -> Manifest:
    """A hardened pod template: non-root UID from the app name, no privileges, read-only root."""
    uid = hardening.app_uid(app)
    claim_volumes, claim_mounts = _volumes(volumes)
    taken = {m["mountPath"] for m in claim_mounts}
    scratch_volumes, scratch_mounts = hardening.writable_scratch_volumes(HOME)
    scratch = [
        (v, m) for v, m in zip(scratch_volumes, scratch_mounts, strict=True) if m["mountPath"] not in taken
    ]
    container: Manifest = {
        "name": app,
        "image": image,
        "securityContext": hardening.container_security_context(uid, localhost_profile),
        "env": [{"name": "HOME", "value": HOME}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "volumeMounts": claim_mounts + [m for _, m in scratch],
    }
    if command:
        container["command"] = command
    spec: Manifest = {
        "automountServiceAccountToken": False,
        "securityContext": hardening.pod_security_context(uid, localhost_profile),
        "containers": [container],
        "volumes": claim_volumes + [v for v, _ in scratch],
    }
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    return {"metadata": {"labels": {**selector(app), **MANAGED_BY}}, "spec": spec}


def render_deployment(
    app: str,
    image: str,
    replicas: int = 1,
    volumes: Sequence[VolumeSpec] = (),
    progress_deadline: int = 600,
    localhost_profile: str | None = None,
    k8orize: Hook | None = None,
    change_cause: str | None = None,
) -> Manifest:
    """The Deployment manifest k8or applies. `k8orize`, when given, applies the k8orization rules;
    `change_cause` is what the revision's history says it was."""
    app_name(app)
    image_ref(image)
    if not 0 <= replicas <= 100:
        raise InvalidInput("replicas must be between 0 and 100.")
    manifest: Manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": app, "labels": {**selector(app), **MANAGED_BY}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector(app)},
            "progressDeadlineSeconds": progress_deadline,
            "revisionHistoryLimit": 10,
            "template": pod_template(app, image, volumes, localhost_profile),
        },
    }
    if change_cause:
        manifest["metadata"]["annotations"] = {CHANGE_CAUSE: change_cause}
    return k8orize(manifest) if k8orize else manifest

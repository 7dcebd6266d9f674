"""The one place where k8or decides what a hardened pod looks like.

Both the k8orization engine (rendering manifests for an app) and the cluster operations
(rendering a Deployment from chat) take their security settings from here, so the two can
never drift apart.
"""

from __future__ import annotations

import hashlib

from .jsontypes import JSONObject

UID_FLOOR = 10000
UID_SPAN = 50000


def app_uid(name: str) -> int:
    """A fixed non-root UID/GID (>= 10000) derived deterministically from the app name."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return UID_FLOOR + int.from_bytes(digest[:4], "big") % UID_SPAN


def seccomp_profile(localhost_profile: str | None = None) -> JSONObject:
    """Localhost when a traced profile exists, RuntimeDefault otherwise."""
    if localhost_profile:
        return {"type": "Localhost", "localhostProfile": localhost_profile}
    return {"type": "RuntimeDefault"}


def pod_security_context(uid: int, localhost_profile: str | None = None) -> JSONObject:
    """Pod-level securityContext satisfying the Pod Security `restricted` standard."""
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": seccomp_profile(localhost_profile),
    }


def container_security_context(uid: int, localhost_profile: str | None = None) -> JSONObject:
    """Container-level securityContext: no root, no escalation, no capabilities, read-only root."""
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": seccomp_profile(localhost_profile),
    }


def writable_scratch_volumes(home: str = "/home/app") -> tuple[list[JSONObject], list[JSONObject]]:
    """emptyDir volumes and their mounts for /tmp and HOME, needed with a read-only root."""
    volumes: list[JSONObject] = [{"name": "tmp", "emptyDir": {}}, {"name": "home", "emptyDir": {}}]
    mounts: list[JSONObject] = [{"name": "tmp", "mountPath": "/tmp"}, {"name": "home", "mountPath": home}]
    return volumes, mounts

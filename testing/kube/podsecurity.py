"""Pod Security admission (`pod-security.kubernetes.io/enforce` on the namespace), for pods.

After k8s.io/pod-security-admission/policy (check_*.go): each check yields a reason and a detail;
a refused pod reads `violates PodSecurity "restricted:latest": <reason> (<detail>), ...`, the
baseline checks first, then the restricted ones, each level's checks in the order of their IDs.
Enforcement applies to pods only: a Deployment is admitted and its ReplicaSet's pods are refused.
Modelled checks: host namespaces, hostPath volumes, privileged; allowPrivilegeEscalation,
capabilities, volume types, runAsNonRoot, runAsUser, seccompProfile.
"""

from __future__ import annotations

from collections.abc import Callable

ENFORCE = "pod-security.kubernetes.io/enforce"
ENFORCE_VERSION = "pod-security.kubernetes.io/enforce-version"
_RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
Check = Callable[[dict], "tuple[str, str] | None"]


def _containers(spec: dict) -> list[dict]:
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def _sc(container: dict) -> dict:
    return container.get("securityContext") or {}


def _names(containers: list[dict]) -> str:
    noun = "container" if len(containers) == 1 else "containers"
    return noun + " " + ", ".join(f'"{c.get("name")}"' for c in containers)


def _host_namespaces(spec: dict) -> tuple[str, str] | None:
    used = [f"{k}=true" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)]
    return ("host namespaces", ", ".join(used)) if used else None


def _host_path(spec: dict) -> tuple[str, str] | None:
    bad = [v["name"] for v in spec.get("volumes") or [] if "hostPath" in v]
    if not bad:
        return None
    noun = "volume" if len(bad) == 1 else "volumes"
    return "hostPath volumes", f"{noun} " + ", ".join(f'"{n}"' for n in bad)


def _privileged(spec: dict) -> tuple[str, str] | None:
    bad = [c for c in _containers(spec) if _sc(c).get("privileged") is True]
    return ("privileged", f"{_names(bad)} must not set securityContext.privileged=true") if bad else None


def _escalation(spec: dict) -> tuple[str, str] | None:
    bad = [c for c in _containers(spec) if _sc(c).get("allowPrivilegeEscalation") is not False]
    if not bad:
        return None
    return "allowPrivilegeEscalation != false", (
        f"{_names(bad)} must set securityContext.allowPrivilegeEscalation=false"
    )


def _capabilities(spec: dict) -> tuple[str, str] | None:
    details = []
    undropped = [
        c for c in _containers(spec) if "ALL" not in ((_sc(c).get("capabilities") or {}).get("drop") or [])
    ]
    if undropped:
        details.append(f'{_names(undropped)} must set securityContext.capabilities.drop=["ALL"]')
    for c in _containers(spec):
        added = [a for a in (_sc(c).get("capabilities") or {}).get("add") or [] if a != "NET_BIND_SERVICE"]
        if added:
            listed = ", ".join(f'"{a}"' for a in added)
            details.append(f"{_names([c])} must not include {listed} in securityContext.capabilities.add")
    return ("unrestricted capabilities", "; ".join(details)) if details else None


def _volume_types(spec: dict) -> tuple[str, str] | None:
    bad = []
    for volume in spec.get("volumes") or []:
        kind = next((k for k in volume if k != "name"), "")
        if kind and kind not in _RESTRICTED_VOLUMES:
            bad.append(f'volume "{volume["name"]}" uses restricted volume type "{kind}"')
    return ("restricted volume types", ", ".join(bad)) if bad else None


def _run_as_non_root(spec: dict) -> tuple[str, str] | None:
    pod = (spec.get("securityContext") or {}).get("runAsNonRoot")
    if pod is False:
        return "runAsNonRoot != true", "pod must not set securityContext.runAsNonRoot=false"
    bad = [c for c in _containers(spec) if _sc(c).get("runAsNonRoot") is False]
    if bad:
        return "runAsNonRoot != true", f"{_names(bad)} must not set securityContext.runAsNonRoot=false"
    unset = [] if pod else [c for c in _containers(spec) if _sc(c).get("runAsNonRoot") is not True]
    if unset:
        return "runAsNonRoot != true", f"pod or {_names(unset)} must set securityContext.runAsNonRoot=true"
    return None


def _run_as_user(spec: dict) -> tuple[str, str] | None:
    if (spec.get("securityContext") or {}).get("runAsUser") == 0:
        return "runAsUser=0", "pod must not set runAsUser=0"
    bad = [c for c in _containers(spec) if _sc(c).get("runAsUser") == 0]
    return ("runAsUser=0", f"{_names(bad)} must not set runAsUser=0") if bad else None


def _seccomp(spec: dict) -> tuple[str, str] | None:
    allowed = ("RuntimeDefault", "Localhost")
    pod = ((spec.get("securityContext") or {}).get("seccompProfile") or {}).get("type")
    if pod is not None and pod not in allowed:
        return "seccompProfile", f'pod must not set securityContext.seccompProfile.type to "{pod}"'
    unset = [
        c
        for c in _containers(spec)
        if (_sc(c).get("seccompProfile") or {}).get("type") not in allowed
        and not (pod and "seccompProfile" not in _sc(c))
    ]
    if not unset:
        return None
    return "seccompProfile", (
        f"pod or {_names(unset)} must set securityContext.seccompProfile.type to "
        '"RuntimeDefault" or "Localhost"'
    )


BASELINE: tuple[Check, ...] = (_host_namespaces, _host_path, _privileged)
RESTRICTED: tuple[Check, ...] = (
    _escalation,
    _capabilities,
    _volume_types,
    _run_as_non_root,
    _run_as_user,
    _seccomp,
)


def violations(level: str, spec: dict) -> list[str]:
    """`reason (detail)` for each check the pod spec fails at `level` (privileged: none)."""
    checks = {"baseline": BASELINE, "restricted": BASELINE + RESTRICTED}.get(level, ())
    found = [result for check in checks if (result := check(spec))]
    return [f"{reason} ({detail})" for reason, detail in found]


def refusal(namespace: dict, spec: dict) -> str | None:
    """The Forbidden detail for a pod the namespace's enforce level refuses, or None."""
    labels = namespace["metadata"].get("labels") or {}
    level = labels.get(ENFORCE)
    if not level:
        return None
    found = violations(level, spec)
    if not found:
        return None
    version = labels.get(ENFORCE_VERSION, "latest")
    return f'violates PodSecurity "{level}:{version}": ' + ", ".join(found)

"""The admission plugins that refuse pods, in the API server's order, each with its upstream wording.

- ServiceAccount (plugin/pkg/admission/serviceaccount/admission.go): the pod's service account must
  exist — `error looking up service account <ns>/<name>: serviceaccount "<name>" not found`.
- RuntimeClass (plugin/pkg/admission/runtimeclass/admission.go): `pod rejected: RuntimeClass "<name>"
  not found`.
- PodSecurity (k8s.io/pod-security-admission): see podsecurity.py.
- ResourceQuota (plugin/pkg/admission/resourcequota/controller.go and pkg/quota/v1/evaluator/core/
  pods.go): `failed quota: <quota>: must specify <resource> for: <containers>` when a quota tracks a
  compute resource a container does not set, `exceeded quota: <quota>, requested: ..., used: ...,
  limited: ...` when the pod would go over.

Each refusal is `admission.NewForbidden`: 403 `pods "<name or generateName>" is forbidden: <reason>`.
Pods made by controllers go through here too, as they are created through the API.
"""

from __future__ import annotations

from decimal import Decimal

from . import podsecurity, quantity
from .kinds import BY_KIND
from .statuses import ApiError
from .store import ObjectStore

_COMPUTE = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "cpu", "memory")


def refusal(kind_name: str, name: str, reason: str) -> ApiError:
    kind = BY_KIND[kind_name]
    return ApiError(
        403,
        "Forbidden",
        f'{kind.qualified} "{name}" is forbidden: {reason}',
        {"name": name, "group": kind.group, "kind": kind.plural},
    )


def admit_pod(store: ObjectStore, pod: dict) -> None:
    """Run the pod admission plugins; raises a 403 ApiError naming the first refusal."""
    meta, spec = pod["metadata"], pod.get("spec") or {}
    ns, name = meta["namespace"], meta.get("name") or meta.get("generateName") or "Unknown"
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    account = spec["serviceAccountName"]
    if store.get(BY_KIND["ServiceAccount"], ns, account) is None:
        detail = f'error looking up service account {ns}/{account}: serviceaccount "{account}" not found'
        raise refusal("Pod", name, detail)
    runtime_class = spec.get("runtimeClassName")
    if runtime_class and store.get(BY_KIND["RuntimeClass"], "", runtime_class) is None:
        raise refusal("Pod", name, f'pod rejected: RuntimeClass "{runtime_class}" not found')
    namespace = store.get(BY_KIND["Namespace"], "", ns)
    if namespace is not None and (reason := podsecurity.refusal(namespace, spec)):
        raise refusal("Pod", name, reason)
    for quota in store.list(BY_KIND["ResourceQuota"], ns):
        if reason := _quota_refusal(store, quota, pod):
            raise refusal("Pod", name, reason)


def usage(spec: dict) -> dict[str, Decimal]:
    """What one pod counts against a quota (pkg/quota/v1/evaluator/core/pods.go)."""
    used: dict[str, Decimal] = {"pods": Decimal(1)}
    for c in spec.get("containers") or []:
        resources = c.get("resources") or {}
        for section in ("requests", "limits"):
            for resource, value in (resources.get(section) or {}).items():
                key = f"{section}.{resource}"
                used[key] = used.get(key, Decimal(0)) + quantity.parse(value)
    for resource in ("cpu", "memory"):
        if f"requests.{resource}" in used:
            used[resource] = used[f"requests.{resource}"]
    return used


def _missing(hard: dict, spec: dict) -> str:
    missing: dict[str, list[str]] = {}
    for resource in sorted(r for r in hard if r in _COMPUTE):
        section, _, name = resource.rpartition(".")
        for c in spec.get("containers") or []:
            if name not in ((c.get("resources") or {}).get(section or "requests") or {}):
                missing.setdefault(resource, []).append(c.get("name", ""))
    return "; ".join(f"{r} for: {','.join(sorted(names))}" for r, names in missing.items())


def _quota_refusal(store: ObjectStore, quota: dict, pod: dict) -> str | None:
    hard = (quota.get("spec") or {}).get("hard") or {}
    name = quota["metadata"]["name"]
    if missing := _missing(hard, pod.get("spec") or {}):
        return f"failed quota: {name}: must specify {missing}"
    requested = {k: v for k, v in usage(pod.get("spec") or {}).items() if k in hard}
    used: dict[str, Decimal] = {}
    for other in store.list(BY_KIND["Pod"], pod["metadata"]["namespace"]):
        if (other.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        for k, v in usage(other.get("spec") or {}).items():
            used[k] = used.get(k, Decimal(0)) + v
    over = sorted(k for k, v in requested.items() if used.get(k, Decimal(0)) + v > quantity.parse(hard[k]))
    if not over:
        return None

    def listing(values: dict[str, Decimal]) -> str:
        return ",".join(
            f"{k}={quantity.show(values.get(k, Decimal(0)), quantity.is_binary(hard[k]))}" for k in over
        )

    limited = {k: quantity.parse(hard[k]) for k in over}
    return (
        f"exceeded quota: {name}, requested: {listing(requested)}, used: {listing(used)}, "
        f"limited: {listing(limited)}"
    )

"""`preflight`: one ✓ or ✗ line per check, before anyone deploys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ClusterError, from_exception
from .kube import Kube, connect
from .objects import annotations_of, name_of
from .target import ClusterTarget

if TYPE_CHECKING:  # boto3 ships no types; the name documents what is passed
    import boto3

DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
NO_DEFAULT_CLASS = (
    "none is the default, so `volume create` needs `--class` (or `storage create <name> --default`)"
)
# What each command needs (verb, API group, resource[/subresource]); storage classes are cluster-wide.
COMMAND_NEEDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "status": (("list", "apps", "deployments"), ("list", "", "pods"), ("list", "", "events")),
    "deploy": (("create", "apps", "deployments"), ("patch", "apps", "deployments")),
    "rollback": (("list", "apps", "replicasets"), ("patch", "apps", "deployments")),
    "delete": (("delete", "apps", "deployments"),),
    "volume create": (("create", "", "persistentvolumeclaims"),),
    "migrate": (("create", "batch", "jobs"), ("get", "", "pods/log")),
    "storage create": (("create", "storage.k8s.io", "storageclasses"),),
}


@dataclass(frozen=True)
class Check:
    """One preflight result."""

    name: str
    ok: bool
    detail: str

    @property
    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.name}: {self.detail}"


def _check(name: str, probe: Callable[[], tuple[bool, str]]) -> Check:
    try:
        ok, detail = probe()
    except Exception as exc:  # noqa: BLE001 - a failing probe is a ✗ line, never a crash
        error = from_exception(exc, name) if not isinstance(exc, ClusterError) else exc
        return Check(name, False, str(error).removeprefix(f"{name}: "))
    return Check(name, ok, detail)


def preflight(
    target: ClusterTarget, aws_session: boto3.Session | None = None, sts_endpoint_url: str | None = None
) -> list[Check]:
    """AWS identity (when there is an AWS session), reachability and version, namespace, EKS node groups,
    Ready nodes, storage classes. Checks after an unreachable cluster are reported as skipped."""
    checks: list[Check] = []
    session = aws_session or (target.eks.session if target.eks else None)
    if session is not None:
        region = target.eks.region if target.eks else None
        checks.append(_check("AWS identity", lambda: _aws_identity(session, region, sts_endpoint_url)))
    with connect(target) as kube:
        reachable = _check("Cluster reachable", lambda: _version(kube))
        checks.append(reachable)
        if not reachable.ok:
            later = ["Namespace", "Node groups", "Nodes Ready", "Storage classes", "Permissions"]
            return checks + [
                Check(n, False, "skipped: cluster unreachable")
                for n in later
                if n != "Node groups" or target.eks
            ]
        checks.append(_check(f"Namespace {target.namespace}", lambda: _namespace(kube)))
        if target.eks:
            checks.append(_check("Node groups ACTIVE", lambda: _nodegroups(target)))
        checks.append(_check("Nodes Ready", lambda: _nodes(kube)))
        checks.append(_check("Storage classes", lambda: _storage_classes(kube)))
        checks.append(_check("Permissions", lambda: _permissions(kube)))
    return checks


def _aws_identity(session: boto3.Session, region: str | None, endpoint_url: str | None) -> tuple[bool, str]:
    sts = session.client("sts", region_name=region or "us-east-1", endpoint_url=endpoint_url)
    who = sts.get_caller_identity()
    return True, f"{who['Arn']} (account {who['Account']})"


def _version(kube: Kube) -> tuple[bool, str]:
    info = kube.version.get_code()
    return True, f"{kube.target.name} answers, Kubernetes {info.git_version}"


def _namespace(kube: Kube) -> tuple[bool, str]:
    ns = kube.core.read_namespace(kube.namespace)
    phase = ns.status.phase if ns.status else "Active"
    return phase == "Active", f"exists ({phase})"


def _nodegroups(target: ClusterTarget) -> tuple[bool, str]:
    eks_info = target.eks
    assert eks_info is not None
    eks = eks_info.session.client("eks", region_name=eks_info.region, endpoint_url=eks_info.endpoint_url)
    names = eks.list_nodegroups(clusterName=eks_info.name).get("nodegroups", [])
    if not names:
        return False, "the cluster has no managed node groups"
    states = {
        n: eks.describe_nodegroup(clusterName=eks_info.name, nodegroupName=n)["nodegroup"]["status"]
        for n in names
    }
    bad = [f"{n} {s}" for n, s in states.items() if s != "ACTIVE"]
    active = len(states) - len(bad)
    detail = f"{active}/{len(states)} ACTIVE" + (f"; not active: {', '.join(bad)}" if bad else "")
    return not bad, detail


def _nodes(kube: Kube) -> tuple[bool, str]:
    nodes = kube.core.list_node().items
    ready = [
        name_of(n)
        for n in nodes
        if any(
            c.type == "Ready" and c.status == "True"
            for c in ((n.status.conditions if n.status else None) or [])
        )
    ]
    if not nodes:
        return False, "the cluster has no nodes"
    not_ready = sorted({name_of(n) for n in nodes} - set(ready))
    detail = f"{len(ready)}/{len(nodes)} Ready" + (
        f"; not Ready: {', '.join(not_ready)}" if not_ready else ""
    )
    return bool(ready), detail


def _storage_classes(kube: Kube) -> tuple[bool, str]:
    classes = kube.storage.list_storage_class().items
    if not classes:
        return False, "none; create one with `storage create <class>`"
    default = [name_of(sc) for sc in classes if annotations_of(sc).get(DEFAULT_CLASS) == "true"]
    names = [name_of(sc) + (" (default)" if name_of(sc) in default else "") for sc in classes]
    if not default:  # a claim without --class would never bind
        return True, ", ".join(names) + f"; {NO_DEFAULT_CLASS}"
    return True, ", ".join(names)


def may(kube: Kube, verb: str, group: str, resource: str) -> bool:
    """A SelfSubjectAccessReview: may whoever the target acts as (the person, when k8or impersonates)
    do this in the target's namespace? Every authenticated user may ask."""
    from kubernetes.client import (
        V1ResourceAttributes,
        V1SelfSubjectAccessReview,
        V1SelfSubjectAccessReviewSpec,
    )

    plural, _, sub = resource.partition("/")
    namespace = None if plural == "storageclasses" else kube.namespace
    attributes = V1ResourceAttributes(
        namespace=namespace, verb=verb, group=group, resource=plural, subresource=sub or None
    )
    review = V1SelfSubjectAccessReview(spec=V1SelfSubjectAccessReviewSpec(resource_attributes=attributes))
    answer = kube.authorization.create_self_subject_access_review(review)
    return bool(answer.status and answer.status.allowed)


def _permissions(kube: Kube) -> tuple[bool, str]:
    """Which commands the cluster lets the person (or k8or's account) run here, by its own RBAC."""
    allowed = {c: all(may(kube, *need) for need in needs) for c, needs in COMMAND_NEEDS.items()}
    denied = [c for c, ok in allowed.items() if not ok]
    granted = [c for c, ok in allowed.items() if ok]
    if not denied:
        return True, "may " + ", ".join(granted)
    return False, ("may " + ", ".join(granted) + "; " if granted else "") + "may not " + ", ".join(denied)

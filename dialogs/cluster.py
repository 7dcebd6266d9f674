"""Kubernetes from chat: target, preflight, storage, deploy with live progress, status, rollback,
migration, delete and audit. Every command only calls the `cluster` library and renders its result.

This module declares the commands and their grammar; the handlers are in `dialogs.cluster_handlers`,
imported when one of them first runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.commands.grammar import arg, non_negative_int, opt, positive_int
from bot.commands.registry import CommandSet
from bot.context import CommandContext
from bot.services import Services
from cluster import names
from cluster.errors import ClusterError
from cluster.incluster import IN_CLUSTER
from cluster.target import list_contexts
from dialogs import integrations
from dialogs.cluster_targets import CLUSTERS, NO_CLUSTER
from policy.roles import DEFAULT_COMMAND_ROLES

commands = CommandSet(handlers="dialogs.cluster_handlers")


def _checked(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """A grammar converter from a cluster name check: bad names are refused while parsing."""

    def convert(raw: str) -> Any:
        try:
            return check(raw)
        except ClusterError as exc:
            raise ValueError(str(exc)) from None

    convert.__name__ = getattr(check, "__name__", "value")
    return convert


APP = _checked(names.app_name)
LABEL_LONGEST = 63  # DNS-1123 labels: refused by length before anything else
CLAIM = _checked(lambda v: names.dns_subdomain(v, "claim name"))
CLASS = _checked(lambda v: names.dns_subdomain(v, "storage class name"))
NAMESPACE = _checked(lambda v: names.dns_label(v, "namespace"))
IMAGE = _checked(names.image_ref)
SIZE = _checked(names.size)
PATH = _checked(names.mount_path)
VOLUME = _checked(names.VolumeSpec.parse)
COMMIT = _checked(names.commit_id)
REPO = _checked(names.repository_name)
SOURCE_PAIR = "`--commit` and `--repo` go together: the commit is looked up in that repository."


def _known_contexts(services: Services | None) -> list[str]:
    """The clusters `cluster use` can offer: the cluster directory's (the pod's own, kubeconfig contexts);
    EKS clusters are named by the person."""
    clusters = services.capabilities.get(CLUSTERS) if services is not None else None
    if clusters is None:
        return []
    own = [IN_CLUSTER] if clusters.in_cluster else []
    paths = [p for p in clusters.kubeconfig.split(":") if p]
    return own + [name for path in paths for name in list_contexts(path)]


def _cluster_chosen(ctx: CommandContext) -> str | None:
    """Checked before any question or confirmation: a command that needs a cluster has one."""
    return None if ctx.cluster else NO_CLUSTER


NEEDS_CLUSTER = (_cluster_chosen,)


def _roles(command: str) -> tuple[str, ...]:
    """The minimum role; RBAC policies hand out the roles below a person's role too."""
    return (DEFAULT_COMMAND_ROLES[command],)


commands.declare(
    "cluster use",
    "Choose the cluster for this conversation (a kubeconfig context or eks:NAME).",
    params=[arg("cluster", "Which cluster (a context, or eks:NAME)", suggest=_known_contexts)],
    roles=_roles("cluster use"),
    examples=("cluster use prod", "cluster use eks:shop"),
)

commands.declare(
    "ns",
    "Choose the namespace for this conversation.",
    params=[arg("namespace", "Which namespace", type=NAMESPACE)],
    roles=_roles("ns"),
    examples=("ns shop",),
)

commands.declare(
    "preflight",
    "Check AWS identity, cluster, namespace, nodes and storage.",
    roles=_roles("preflight"),
    requires=NEEDS_CLUSTER,
)

commands.declare(
    "storage create",
    "Create a StorageClass.",
    params=[
        arg("class", "Which storage class name", type=CLASS),
        opt("provisioner", "Which provisioner", default="ebs.csi.aws.com"),
        opt("type", "The volume type parameter", default="gp3"),
        opt(
            "binding", "When volumes bind", choices=("Immediate", "WaitForFirstConsumer"), default="Immediate"
        ),
        opt("default", "Make it the default class", flag=True),
    ],
    roles=_roles("storage create"),
    requires=NEEDS_CLUSTER,
    examples=("storage create gp3", "storage create fast --type io2 --binding WaitForFirstConsumer"),
)

commands.declare(
    "volume create",
    "Create a PersistentVolumeClaim and wait until it is Bound.",
    params=[
        arg("claim", "Which claim name", type=CLAIM),
        opt("size", "How big (e.g. 10Gi)", type=SIZE, required=True),
        opt("class", "Which storage class", type=CLASS),
    ],
    roles=_roles("volume create"),
    requires=NEEDS_CLUSTER,
    examples=("volume create data --size 10Gi --class gp3",),
)

commands.declare(
    "deploy",
    "Deploy an image as a hardened Deployment and follow the rollout.",
    params=[
        arg("app", "Which app", type=APP, max_length=LABEL_LONGEST),
        arg("image", "Which image (repo[:tag])", type=IMAGE),
        opt("replicas", "How many replicas", type=non_negative_int, default=1),
        opt("volume", "A claim:/path to mount", type=VOLUME, repeat=True),
        opt("commit", "Which Git commit the image was built from (7-40 hex)", type=COMMIT),
        opt("repo", "Which GitHub repository that commit is in (owner/name)", type=REPO),
        opt("miro-board", "Which Miro board gets the rollout's timeline", type=integrations.TEXT),
    ],
    roles=_roles("deploy"),
    requires=NEEDS_CLUSTER,
    examples=(
        "deploy web nginx:1.27 --replicas 2 --volume data:/mnt --volume usr-data:/usr",
        "deploy web acme/web:1.4 --commit a1b2c3d --repo acme/web",
    ),
)

commands.declare(
    "status",
    "Show one app, or every deployment in the namespace.",
    params=[
        arg("app", "Which app", type=APP, required=False, max_length=LABEL_LONGEST),
        opt("tickets", "List the issue keys each app's running revision shipped", flag=True),
    ],
    roles=_roles("status"),
    requires=NEEDS_CLUSTER,
    examples=("status", "status web", "status --tickets"),
)

commands.declare(
    "rollback",
    "List an app's revisions, or roll back to one (like kubectl rollout undo).",
    params=[
        arg("app", "Which app", type=APP, max_length=LABEL_LONGEST),
        opt("to-revision", "Which revision", type=positive_int),
    ],
    roles=_roles("rollback"),
    requires=NEEDS_CLUSTER,
    examples=("rollback web", "rollback web --to-revision 3"),
)

commands.declare(
    "migrate",
    "Copy an app's directory onto a claim in a Job, and verify the byte totals (du).",
    params=[
        arg("app", "Which app", type=APP, max_length=LABEL_LONGEST),
        opt("from", "Which directory to copy", type=PATH, default="/usr"),
        opt("to", "Where the claim is mounted", type=PATH, default="/mnt"),
        opt("claim", "Which claim receives the copy", type=CLAIM, required=True),
    ],
    roles=_roles("migrate"),
    requires=NEEDS_CLUSTER,
    destructive=True,
    examples=("migrate web --from /usr --to /mnt --claim data",),
)

commands.declare(
    "delete",
    "Delete an app: Deployment, ReplicaSets and Pods (foreground cascade).",
    params=[arg("app", "Which app", type=APP, max_length=LABEL_LONGEST)],
    roles=_roles("delete"),
    requires=NEEDS_CLUSTER,
    destructive=True,
    examples=("delete web",),
)

commands.declare(
    "audit",
    "Show the latest audit entries (admins).",
    params=[arg("count", "How many entries", type=positive_int, required=False, default=20)],
    roles=_roles("audit"),
    examples=("audit", "audit 50"),
)

"""Which cluster a conversation talks to, built from the conversation's choice and the person.

The composition root (k8or.wiring) or a test installs a ClusterDirectory under CLUSTERS;
without one the cluster commands say so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from actions.blocking import call
from bot.context import CommandContext
from bot.errors import K8orError
from bot.services import ServiceKey
from cluster.errors import TargetError
from cluster.incluster import IN_CLUSTER, InClusterAccount
from cluster.target import EKS_PREFIX, ClusterTarget, Impersonation, from_eks, from_kubeconfig, list_contexts

NO_CLUSTER = "No cluster chosen yet: say `cluster use <context | eks:NAME>` first."


@dataclass
class ClusterDirectory:
    """Where targets come from: kubeconfig files, and EKS through the person's AWS session."""

    kubeconfig: str = ""
    eks_region: str = "us-east-1"
    aws_session: Callable[[CommandContext], Awaitable[Any]] | None = None
    resolve_digest: Callable[[CommandContext, str], Awaitable[str | None]] | None = None
    impersonate: bool = False
    rollout_timeout: float = 600.0
    eks_endpoint_url: str | None = None
    sts_endpoint_url: str | None = None
    in_cluster: InClusterAccount | None = None  # the pod's ServiceAccount, offered as `in-cluster`

    async def contexts(self) -> list[str]:
        own = [IN_CLUSTER] if self.in_cluster else []
        if not self.kubeconfig:
            return own
        return own + await call(list_contexts, self.kubeconfig)

    async def target(
        self, ctx: CommandContext, name: str | None = None, namespace: str | None = None
    ) -> ClusterTarget:
        """The conversation's target (or the named one), acting as the person when impersonating."""
        name = name or ctx.cluster
        if not name:
            raise K8orError(NO_CLUSTER)
        if name.startswith(EKS_PREFIX):
            target = await self._eks(
                ctx, name.removeprefix(EKS_PREFIX), namespace or ctx.namespace or "default"
            )
        elif name == IN_CLUSTER and self.in_cluster:
            target = await call(self.in_cluster.target, namespace or ctx.namespace)
        else:
            if not self.kubeconfig:
                raise K8orError("No kubeconfig is configured (K8OR_KUBECONFIG); only eks:NAME clusters work.")
            target = await call(from_kubeconfig, self.kubeconfig, name, namespace or ctx.namespace)
        if self.impersonate:
            target = target.impersonating(impersonation_for(ctx))
        return target

    async def _eks(self, ctx: CommandContext, cluster: str, namespace: str) -> ClusterTarget:
        if self.aws_session is None:
            raise K8orError("EKS needs the AWS connector: sign in with `login aws` first.")
        session = await self.aws_session(ctx)
        return await call(
            from_eks,
            session,
            cluster,
            self.eks_region,
            namespace,
            self.eks_endpoint_url,
            self.sts_endpoint_url,
        )

    async def session_for(self, ctx: CommandContext) -> Any:
        return await self.aws_session(ctx) if self.aws_session else None


def impersonation_for(ctx: CommandContext) -> Impersonation:
    """Who the cluster should see: the person's trusted email (else their channel key) and their
    trusted groups. `ctx.person` holds only what bot.trust proved; `system:` names never go out."""
    person = ctx.person
    try:
        return Impersonation(person.email or person.key, tuple(sorted(person.groups)))
    except TargetError as exc:
        raise K8orError(str(exc)) from exc


CLUSTERS: ServiceKey[ClusterDirectory] = ServiceKey("clusters")
NOT_WIRED = "The cluster commands are not set up on this k8or (no cluster directory)."


def directory(ctx: CommandContext) -> ClusterDirectory:
    """The app's cluster directory, installed at start-up."""
    found = ctx.services.capabilities.get(CLUSTERS)
    if found is None:
        raise K8orError(NOT_WIRED)
    return found

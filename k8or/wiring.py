"""Wire the cluster commands and the job runner into the app, as extensions `create_app` installs.

At start-up it installs a ClusterDirectory under `dialogs.cluster_targets.CLUSTERS`: kubeconfig
files from K8OR_KUBECONFIG, EKS through the person's AWS sign-in, and tag → digest through their
Docker Hub sign-in when they have one. The RBAC file and the audit log are the services' own
(bot/app.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from bot.context import CommandContext
from bot.errors import K8orError
from bot.jobs import JOBS, JobKinds
from bot.jobs.inprocess import InProcessQueue
from bot.services import Services
from bot.signin.components import SignIn
from cluster.incluster import mounted_account
from dialogs.cluster_targets import CLUSTERS, ClusterDirectory
from policy.rbac import RbacPolicy


def job_kinds() -> JobKinds:
    """Every built-in command family's job handlers (their handler modules load here: a durable queue
    must know every kind before its worker takes a job)."""
    from dialogs import cluster_handlers, k8orize_handlers

    return JobKinds().include(cluster_handlers.jobs, k8orize_handlers.jobs)


async def jobs_extension(app: web.Application | None, services: Services) -> AsyncIterator[None]:
    """Background work as jobs: on PostgreSQL, procrastinate's queue and this replica's worker for
    the app's lifetime (jobs survive the replica); on SQLite, in this process (bot.jobs)."""
    if services.db.is_sqlite:
        services.capabilities[JOBS] = InProcessQueue(services.tracker)
        yield
        return
    from bot.jobs.durable import DurableQueue  # procrastinate and psycopg load only when used

    async with DurableQueue(services, job_kinds()).running() as queue:
        services.capabilities[JOBS] = queue
        yield


async def cluster_extension(app: web.Application | None, services: Services) -> AsyncIterator[None]:
    """Install the cluster directory for the app's lifetime."""
    services.capabilities[CLUSTERS] = cluster_directory(services)
    yield


def cluster_directory(services: Services) -> ClusterDirectory:
    """The directory these settings and this RBAC policy call for."""
    settings = services.settings
    policy = services.roles if isinstance(services.roles, RbacPolicy) else None
    return ClusterDirectory(
        kubeconfig=settings.kubeconfig,
        eks_region=settings.aws.region,
        aws_session=person_aws_session,
        resolve_digest=person_image_digest,
        impersonate=bool(policy and policy.impersonate),
        # No kubeconfig: the cluster k8or runs in, when its ServiceAccount token is mounted.
        in_cluster=None if settings.kubeconfig else mounted_account(),
    )


def _signin(ctx: CommandContext) -> SignIn:
    signin = ctx.services.signin
    if signin is None:
        raise K8orError("Sign-in is not configured on this k8or, so EKS clusters cannot be reached.")
    return signin


async def person_aws_session(ctx: CommandContext) -> Any:
    """The person's boto3 session, from their AWS sign-in."""
    signin = _signin(ctx)
    credentials = await signin.vault.get(ctx.person.key, "aws")
    connector = signin.connector("aws")
    if credentials is None or connector is None:
        raise K8orError("EKS needs your AWS sign-in: say `login aws` first.")
    return await connector.session(credentials)  # type: ignore[attr-defined]


def split_image(image: str) -> tuple[str, str]:
    """`repo[:tag]` → (repo, tag); the tag defaults to latest, a registry port is not a tag."""
    head, _, last = image.rpartition("/")
    name, _, tag = last.partition(":")
    return (f"{head}/{name}" if head else name), (tag or "latest")


async def person_image_digest(ctx: CommandContext, image: str) -> str | None:
    """The digest `image` points at now, through the person's Docker Hub sign-in; None without one."""
    signin = ctx.services.signin
    if signin is None:
        return None
    connector = signin.connector("dockerhub")
    if connector is None:
        return None
    credentials = await signin.vault.get(ctx.person.key, "dockerhub")
    if credentials is None:
        return None
    repository, tag = split_image(image)
    digest: str | None = await connector.resolve_digest(credentials, repository, tag)  # type: ignore[attr-defined]
    return digest

"""Wire on-call alerting into the app: the AlertDesk under `actions.alerting.NOTIFY` for the app's
lifetime, watching what conversations subscribed to (`notify on`) with k8or's own cluster access.

One replica watches each cluster (`elections`): in a pod, the winner of a Lease election in k8or's
own namespace (cluster.leader); outside a cluster on PostgreSQL, the holder of an advisory lock
(bot.leadership); on SQLite, the one process there is, without an election.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import AsyncIterator

from aiohttp import web
from botbuilder.schema import Activity

from actions.alert_leaders import Elect
from actions.alerting import NOTIFY, AlertDesk, AlertView, TargetFor
from actions.blocking import call
from bot.alert_store import AlertStore
from bot.errors import K8orError
from bot.leadership import AdvisoryLockElection, advisory_key
from bot.proactive import ProactiveMessages
from bot.services import Services
from cluster.incluster import IN_CLUSTER, InClusterAccount, mounted_account
from cluster.leader import ElectionTiming, LeaseElection, lease_name
from cluster.target import EKS_PREFIX, ClusterTarget, from_kubeconfig
from dialogs import notify_messages as say
from dialogs.cluster_targets import CLUSTERS, ClusterDirectory

log = logging.getLogger(__name__)


def watch_targets(clusters: ClusterDirectory) -> TargetFor:
    """Targets for the watches: k8or's own credentials (kubeconfig context or in-cluster account)."""

    async def target_for(cluster: str, namespace: str) -> ClusterTarget:
        if cluster.startswith(EKS_PREFIX):
            raise K8orError(say.EKS_NOT_WATCHED)
        if cluster == IN_CLUSTER and clusters.in_cluster:
            return await call(clusters.in_cluster.target, namespace)
        if not clusters.kubeconfig:
            raise K8orError("No kubeconfig is configured (K8OR_KUBECONFIG).")
        return await call(from_kubeconfig, clusters.kubeconfig, cluster, namespace)

    return target_for


def alert_desk(services: Services, elect: Elect | None = None) -> AlertDesk:
    """A desk over the app's database and channels, reaching clusters through the cluster directory;
    `elect` makes each cluster's candidacy (None: this replica watches every cluster)."""
    clusters = services.capabilities.get(CLUSTERS) or ClusterDirectory()
    return AlertDesk(
        AlertStore(services.db),
        ProactiveMessages(services),
        watch_targets(clusters),
        _render,
        services.settings.notify,
        elect,
        lambda cluster, namespace, app: _healthy(services, cluster, namespace, app),
    )


# What the desk calls only once something happens loads then: the cards and the integrations are
# not needed to start, and a k8or nobody subscribed to never imports them.


def _render(view: AlertView) -> Activity:
    from dialogs.notify_alerts import render_alert

    return render_alert(view)


async def _healthy(services: Services, cluster: str, namespace: str, app: str) -> None:
    """The tools around an app that turned healthy: the Toggl entries its rollbacks started stop."""
    from actions.integration_store import Place
    from actions.integrations import app_healthy

    for line in await app_healthy(services, Place(cluster, namespace, app)):
        log.info("app healthy again: %s", line, extra={"app": app, "namespace": namespace})


def elections(services: Services, account: InClusterAccount | None) -> Elect | None:
    """How this replica stands for each cluster: a Lease where k8or has a ServiceAccount, an
    advisory lock on PostgreSQL, nothing on SQLite."""
    notify = services.settings.notify
    timing = ElectionTiming(notify.lease_duration, notify.renew_deadline, notify.retry_period)
    if account is not None:
        target = account.target(notify.lease_namespace or None)
        identity = f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"  # in a pod: the pod's name
        return lambda cluster: LeaseElection(target, lease_name(notify.lease_name, cluster), identity, timing)
    if services.db.is_sqlite:
        return None
    schema = services.settings.database_schema
    return lambda cluster: AdvisoryLockElection(services.db, advisory_key(schema, cluster), timing)


async def notify_extension(app: web.Application | None, services: Services) -> AsyncIterator[None]:
    """Run the alert desk for the app's lifetime (after the cluster directory is installed)."""
    elect = elections(services, mounted_account())
    desk = await alert_desk(services, elect).start()
    services.capabilities[NOTIFY] = desk
    try:
        yield
    finally:
        await desk.stop()

"""Wire on-call alerting into the app: the AlertDesk under `actions.alerting.NOTIFY` for the app's
lifetime, watching what conversations subscribed to (`notify on`) with k8or's own cluster access."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from actions.alerting import NOTIFY, AlertDesk
from bot.alert_store import AlertStore
from bot.proactive import ProactiveMessages
from bot.services import Services
from dialogs.cluster_targets import CLUSTERS, ClusterDirectory
from dialogs.notify import watch_targets
from dialogs.notify_alerts import render_alert


def alert_desk(services: Services) -> AlertDesk:
    """A desk over the app's database and channels, reaching clusters through the cluster directory."""
    clusters = services.capabilities.get(CLUSTERS) or ClusterDirectory()
    return AlertDesk(
        AlertStore(services.db), ProactiveMessages(services), watch_targets(clusters), render_alert
    )


async def notify_extension(app: web.Application | None, services: Services) -> AsyncIterator[None]:
    """Run the alert desk for the app's lifetime (after the cluster directory is installed)."""
    desk = await alert_desk(services).start()
    services.capabilities[NOTIFY] = desk
    try:
        yield
    finally:
        await desk.stop()

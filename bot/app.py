"""The chat service as an aiohttp application: `build_app(settings, parts)`, given its commands.

The framework part of the app: the Bot Framework endpoint, health, readiness and metrics, the
Slack edge and the sign-in pages, and the services every turn uses. Which commands it answers and
which extensions it runs come from the composition root (`k8or.app.create_app`), so the framework
imports no command. Nothing is built at import time.

Long-lived things (the database engine, the bot, the adapter) are opened in `cleanup_ctx` and
live under `web.AppKey`s; they are closed in reverse order at shutdown, after in-flight turns
have drained.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot import slack
from bot import storage as storage_module
from bot.adapter import K8orAdapter, channel_authentication
from bot.commands.registry import CommandRegistry
from bot.db import Database
from bot.dedupe import DeliveryLedger
from bot.direct import DirectMessages
from bot.graph import GraphDirectory
from bot.identity import IdentityResolver
from bot.keys import ADAPTER, BOT, HTTP, SERVICES
from bot.logs import AppSecrets
from bot.metrics import CONTENT_TYPE, BotMetrics
from bot.pipeline import K8orBot
from bot.pruning import pruning_extension
from bot.roles import NoRoles, RoleResolver
from bot.services import Services
from bot.settings import Settings, SettingsError
from bot.signin.extension import mount_signin
from bot.tracker import TurnTracker
from bot.trust import ChannelTrust
from bot.version import VERSION
from policy.audit import AuditLog
from policy.rbac import RbacFileError, RbacPolicy, load_policy

log = logging.getLogger(__name__)


# An extension adds capabilities (vault, sign-in pages, clusters) to the services and the app;
# it runs inside the app's lifetime, so it can open and close its own clients.
Extension = Callable[[web.Application, Services], AsyncIterator[None]]


@dataclass
class AppParts:
    """What the composition root (or a test) gives the framework; everything else comes from settings."""

    registry: CommandRegistry | None = None  # None: the composition root's default commands
    roles: RoleResolver | None = None
    identity: IdentityResolver | None = None
    extensions: list[Extension] = field(default_factory=list)


async def build_services(settings: Settings, parts: AppParts) -> Services:
    """Open the database, bring it to the newest migration, and assemble the services every turn uses."""
    db = Database(settings.effective_database_url, settings.database_schema)
    await db.upgrade()
    secrets = AppSecrets(_secret_values(settings))
    services = Services(
        settings=settings,
        db=db,
        storage=storage_module.SqlStorage(db, cache=db.is_sqlite),
        registry=parts.registry or CommandRegistry(),
        metrics=BotMetrics(),
        ledger=DeliveryLedger(db, lease=settings.delivery_lease),
        tracker=TurnTracker(),
        roles=parts.roles or NoRoles(),
        identity=parts.identity or channel_trust(settings),
        direct=DirectMessages(db, settings.microsoft_app_id),
        secrets=secrets,
    )
    if parts.roles is None and settings.rbac_file is not None:
        policy = _rbac_policy(settings.rbac_file)
        services.roles = services.approvals = policy
    services.audit = AuditLog(db)
    return services


def channel_trust(settings: Settings) -> ChannelTrust:
    """The trust table (bot.trust) for these settings: Microsoft Graph groups only when configured."""
    graph = GraphDirectory(settings.graph, settings.outbound_timeout) if settings.graph.enabled else None
    return ChannelTrust(settings, graph=graph)


def _rbac_policy(path: Path) -> RbacPolicy:
    """The RBAC file, or a start-up error naming the setting: a typo must not mean 'no roles'."""
    try:
        return load_policy(path)
    except (OSError, RbacFileError) as exc:
        raise SettingsError(f"K8OR_RBAC_FILE: {exc}") from None


async def close_services(services: Services) -> None:
    close_identity = getattr(services.identity, "close", None)
    if close_identity is not None:
        await close_identity()
    await services.ledger.close()  # deliveries being recorded finish first
    await services.db.dispose()
    if services.secrets is not None:
        services.secrets.release()


def _secret_values(settings: Settings) -> Iterable[str]:
    yield settings.microsoft_app_password.get_secret_value()
    yield from (k.strip() for k in settings.vault_key.get_secret_value().split(","))
    yield settings.slack_bot_token.get_secret_value()
    yield settings.slack_signing_secret.get_secret_value()
    yield settings.slack_app_token.get_secret_value()
    yield settings.graph.client_secret.get_secret_value()


def build_app(settings: Settings, parts: AppParts, later: Iterable[Extension] = ()) -> web.Application:
    """The aiohttp application serving /api/messages, /healthz, /readyz and /metrics; `later` are
    extensions that run after the framework's own (Slack, sign-in), so they can use what those add."""
    extensions = list(parts.extensions)
    app = web.Application(middlewares=[_draining_guard])
    if slack.configured(settings):  # slack_sdk loads only for a bot that talks to Slack
        from bot.slack.extension import mount_slack

        mount_slack(app, extensions, settings)
    mount_signin(app, extensions, settings)
    extensions.append(pruning_extension)
    extensions.extend(later)
    app.cleanup_ctx.append(_lifetime(settings, parts, extensions))
    app.router.add_post("/api/messages", _messages)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    app.on_shutdown.append(_drain)
    return app


def _lifetime(
    settings: Settings, parts: AppParts, extensions: list[Extension]
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        services = await build_services(settings, parts)
        app[SERVICES] = services
        app[HTTP] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300))
        app[BOT] = K8orBot(services)
        app[ADAPTER] = K8orAdapter(channel_authentication(settings, lambda: app[HTTP]), services.metrics)
        if services.direct is not None:
            services.direct.default_adapter = app[ADAPTER]
        running = [ext(app, services) for ext in extensions]
        try:
            for ext in running:
                await anext(ext)
            # Everything alive now (the SDKs' import graphs: hundreds of thousands of objects) lives
            # as long as the app: keep it out of the collector, whose full passes would rescan it.
            # No collection first: start-up leaves a few dozen cyclic objects, not worth a full pass
            # (tens of milliseconds) before the first answer.
            gc.freeze()
            gc.enable()  # `k8or serve` starts with it off (k8or/__main__.py, k8or.cli)
            log.info("k8or ready", extra={"version": VERSION, "emulator_mode": settings.emulator_mode})
            yield
        finally:
            for ext in reversed(running):
                await anext(ext, None)
            await app[HTTP].close()
            await close_services(services)

    return lifetime


@web.middleware
async def _draining_guard(request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
    services = request.app.get(SERVICES)
    if services is not None and not services.tracker.accepting and request.path == "/api/messages":
        return web.json_response({"error": "shutting down"}, status=503, headers={"Retry-After": "5"})
    return await handler(request)


async def _messages(request: web.Request) -> web.StreamResponse:
    return await request.app[ADAPTER].process(request, request.app[BOT])


async def _healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "version": VERSION})


async def _readyz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    if services.tracker.accepting and await services.db.ping():
        return web.json_response({"status": "ready"})
    return web.json_response({"status": "not ready", "storage": "unreachable"}, status=503)


async def _metrics(request: web.Request) -> web.Response:
    body = request.app[SERVICES].metrics.expose()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def _drain(app: web.Application) -> None:
    services = app.get(SERVICES)
    if services is None:
        return
    drained = await services.tracker.drain(services.settings.drain_timeout)
    log.info("drained", extra={"clean": drained})

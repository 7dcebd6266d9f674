"""The app factory: `create_app(settings) -> web.Application`, with every built-in command.

The framework (`bot.app.build_app`) serves whatever registry it is given; this module decides what
k8or answers to -- the built-in command sets and those installed by plugins -- and installs the
commands' own capabilities (the cluster directory) at start-up.
"""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from bot.app import ADAPTER, BOT, HTTP, SERVICES, AppParts, Extension, build_app, build_services
from bot.commands.registry import CommandRegistry
from bot.settings import Settings
from dialogs import builtin_command_sets
from k8or.alerting import notify_extension
from k8or.wiring import cluster_extension, jobs_extension

__all__ = [
    "ADAPTER",
    "BOT",
    "HTTP",
    "SERVICES",
    "AppParts",
    "build_services",
    "create_app",
    "default_registry",
]


def default_registry() -> CommandRegistry:
    """Every built-in command set, plus command sets installed by plugins."""
    registry = CommandRegistry()
    for commands in builtin_command_sets():
        registry.include(commands)
    return registry.include_entry_points()


def create_app(settings: Settings, parts: AppParts | None = None) -> web.Application:
    """The k8or service: /api/messages, /healthz, /readyz, /metrics, Slack and the sign-in pages."""
    parts = parts or AppParts()
    if parts.registry is None:
        parts = replace(parts, registry=default_registry())
    later: list[Extension] = [cluster_extension, jobs_extension, notify_extension]
    return build_app(settings, parts, later)

"""Conversations: each module declares a `CommandSet` named `commands`."""

from __future__ import annotations

from importlib import import_module

from bot.commands.registry import CommandSet

# Modules whose command sets the bot answers to by default.
BUILTIN_MODULES = (
    "dialogs.core",
    "dialogs.auth",
    "dialogs.cluster",
    "dialogs.oncall",
    "dialogs.notify",
    "dialogs.k8orize",
    "dialogs.release",
    "dialogs.integrations",
)


def builtin_command_sets() -> list[CommandSet]:
    return [import_module(name).commands for name in BUILTIN_MODULES]

"""A handler module for tests/unit/bot/test_lazy_commands.py: imported by its first call."""

from __future__ import annotations


async def record(calls: list[str], args: str) -> str:
    calls.append(args)
    return args

"""One JSON log line per turn, with the correlation id that error replies quote; no secret gets through.

The scrubber's patterns alone are tested in tests/unit/bot/test_scrubber.py.
"""

from __future__ import annotations

import io
import json
import logging

import pytest

import dialogs.core
from bot.commands.registry import CommandSet
from bot.logs import SCRUBBER, configure_logging
from testing.chat.turns import TurnHarness

leaky = CommandSet()


@leaky.command("leak", "Fails with a secret in the exception.")
async def leak(ctx, args):  # type: ignore[no-untyped-def]
    raise RuntimeError("upstream said: Authorization: Bearer sk-live-abcdefghijklmnop password=hunter22")


@pytest.fixture
def log_lines():  # type: ignore[no-untyped-def]
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    for handler in list(logging.getLogger().handlers):
        if getattr(handler, "_k8or", False):
            logging.getLogger().removeHandler(handler)


async def test_one_line_per_turn_with_the_fields_operators_need(tmp_path, log_lines):
    async with TurnHarness.open(tmp_path, [dialogs.core.commands]) as bot:
        await bot.say("help", user="alice")
    turns = [line for line in log_lines() if line["msg"] == "turn"]
    assert len(turns) == 1
    turn = turns[0]
    for field in ("correlation_id", "channel", "conversation", "user", "command", "outcome", "latency_ms"):
        assert field in turn, field
    assert (turn["command"], turn["outcome"], turn["user"]) == ("help", "ok", "alice")


async def test_error_reply_quotes_the_correlation_id_and_logs_no_secret(tmp_path, log_lines):
    async with TurnHarness.open(tmp_path, [leaky]) as bot:
        reply = (await bot.say("leak"))[0]
    lines = log_lines()
    turn = next(line for line in lines if line["msg"] == "turn")
    assert turn["outcome"] == "error"
    assert f"`{turn['correlation_id']}`" in reply
    text = "\n".join(json.dumps(line) for line in lines)
    assert "sk-live-abcdefghijklmnop" not in text and "hunter22" not in text
    assert "RuntimeError" in text  # the traceback is kept, scrubbed
    assert "sk-live" not in reply


def test_the_app_password_is_registered_with_the_global_scrubber(tmp_path):
    import asyncio

    from bot.app import AppParts, build_services, close_services
    from bot.settings import Settings

    settings = Settings(
        data_dir=tmp_path,
        microsoft_app_id="id",
        microsoft_app_password="very-unusual-app-password-123",
    )

    async def build() -> None:
        services = await build_services(settings, AppParts())
        assert SCRUBBER.scrub("x very-unusual-app-password-123 y") == "x [redacted] y"
        await close_services(services)

    asyncio.run(build())
    # Released with the app: building apps does not grow the process-wide scrubber.
    assert SCRUBBER.scrub("x very-unusual-app-password-123 y") == "x very-unusual-app-password-123 y"

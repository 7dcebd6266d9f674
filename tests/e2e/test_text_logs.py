"""K8OR_LOG_FORMAT=text keeps the JSON line's fields as key=value, scrubbed the same way (issue 15)."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator

import pytest

import dialogs.core
from bot.logs import configure_logging
from testing.chat.turns import TurnHarness


@pytest.fixture
def text_lines() -> Iterator[Callable[[], list[str]]]:
    stream = io.StringIO()
    configure_logging("INFO", "text", stream=stream)
    yield lambda: stream.getvalue().splitlines()
    for handler in list(logging.getLogger().handlers):
        if getattr(handler, "_k8or", False):
            logging.getLogger().removeHandler(handler)


async def test_a_turn_line_carries_its_fields(tmp_path, text_lines) -> None:
    async with TurnHarness.open(tmp_path, [dialogs.core.commands]) as bot:
        await bot.say("help", user="alice")
    turn = next(line for line in text_lines() if re.search(r" INFO k8or\.turn: turn ", line))
    assert " command=help " in turn and " outcome=ok " in turn and " user=alice" in turn
    assert re.search(r" latency_ms=\d+(\.\d+)? ", turn + " "), turn
    assert re.search(r" correlation_id=\S+", turn), turn


def test_values_with_spaces_are_quoted_and_secrets_scrubbed(text_lines) -> None:
    log = logging.getLogger("k8or.test")
    log.warning(
        "sign-in failed",
        extra={"reason": 'said "no" twice', "header": "Authorization: Bearer sk-live-abcdefghijklmnop"},
    )
    (line,) = [line for line in text_lines() if "sign-in failed" in line]
    assert 'reason="said \\"no\\" twice"' in line
    assert "sk-live-abcdefghijklmnop" not in line and "header=" in line


def test_a_traceback_follows_the_fields_scrubbed(text_lines) -> None:
    log = logging.getLogger("k8or.test")
    try:
        raise RuntimeError("password=hunter22")
    except RuntimeError:
        log.exception("boom", extra={"step": "deploy"})
    text = "\n".join(text_lines())
    assert re.search(r"ERROR k8or\.test: boom step=deploy\n", text), text
    assert "RuntimeError" in text and "hunter22" not in text

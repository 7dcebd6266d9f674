"""Hypothesis fuzzing of the grammar through whole turns: nothing escapes, everything gets a reply.

The parser and the tokenizer alone are fuzzed in tests/unit/bot/test_grammar_fuzz.py.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dialogs.core
from testing.chat.turns import TurnHarness
from tests.e2e.test_turns_memory import Roles, fixture_commands

WORDS = [
    "help",
    "scale",
    "pick",
    "wipe",
    "whoami",
    "version",
    "web",
    "3",
    "-1",
    "--mode",
    "--mode=fast",
    "--",
    "'",
    '"',
    "\\",
    "<at>k8or</at>",
    "<@U1>",
    "yes",
    "no",
    "cancel",
    "--x=",
    "ＳＣＡＬＥ",
    "\x00",
]
lines = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=5).map(" ".join),
)


def test_no_input_crashes_a_turn_and_every_input_gets_a_reply() -> None:
    loop = asyncio.new_event_loop()
    tmp = Path(tempfile.mkdtemp())
    manager = TurnHarness.open(
        tmp, [dialogs.core.commands, fixture_commands], roles=Roles({"alice": {"deployer"}})
    )
    bot = loop.run_until_complete(manager.__aenter__())
    try:

        @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
        @given(lines)
        def one_turn(line: str) -> None:
            replies = loop.run_until_complete(bot.say(line))
            assert replies, f"no reply to {line!r}"
            assert not any("Something went wrong" in r for r in replies), (line, replies)

        one_turn()
    finally:
        loop.run_until_complete(manager.__aexit__(None, None, None))
        loop.close()

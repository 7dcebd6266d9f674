"""Hypothesis fuzzing of the grammar's parser and tokenizer: they raise only usage errors.

Whole turns are fuzzed in tests/e2e/test_grammar_fuzz.py; the `scale` command comes from there.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.commands.grammar import UsageError, parse, tokenize
from tests.e2e.test_turns_memory import fixture_commands


@given(st.lists(st.text(max_size=10), max_size=6))
def test_parser_raises_only_usage_errors(tokens: list[str]) -> None:
    spec = next(s for s in fixture_commands if s.name == "scale")
    try:
        parse(spec.params, tokens, "scale")
    except UsageError:
        pass


@given(st.text(max_size=80))
def test_tokenizer_raises_only_usage_errors(text: str) -> None:
    try:
        tokenize(text)
    except UsageError:
        pass

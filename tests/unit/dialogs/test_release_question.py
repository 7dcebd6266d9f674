"""Which messages are release questions, and which issue keys commit messages name."""

from __future__ import annotations

import pytest

from connectors.jira import issue_keys
from dialogs.release import issue_key, question_command


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("is PROJ-123 live?", "release PROJ-123"),
        ("was ABC-7 deployed to prod?", "release ABC-7"),
        ("has K8S2-40 shipped yet", "release K8S2-40"),
        ("PROJ-9 released?", "release PROJ-9"),
        ("Is PROJ-123 LIVE", "release PROJ-123"),
        ("status web", None),  # no key
        ("is PROJ-123 done?", None),  # no release word
        ("the livestream for PROJ-1", None),  # `live` only as a whole word
        ("is proj-123 live?", None),  # keys are written in capitals
    ],
)
def test_a_question_names_a_key_and_a_release_word(text: str, line: str | None) -> None:
    assert question_command(text) == line


def test_issue_keys_come_once_in_order_of_appearance() -> None:
    messages = ("PROJ-2 and PROJ-1", "Merge pull request #4\n\nFixes PROJ-1, ABC-10", "wip")
    assert issue_keys(messages) == ["PROJ-2", "PROJ-1", "ABC-10"]


def test_an_issue_key_argument_is_checked_and_capitalised() -> None:
    assert issue_key("proj-123") == "PROJ-123"
    for bad in ("123-PROJ", "PROJ123", "P-", "-1"):
        with pytest.raises(ValueError, match="is not an issue key"):
            issue_key(bad)


def test_a_registry_reads_the_plain_question_and_leaves_command_lines_alone() -> None:
    from bot.commands.registry import CommandRegistry
    from dialogs.release import commands as release_commands

    registry = CommandRegistry().include(release_commands)
    assert registry.meaning("is PROJ-123 live?") == "release PROJ-123"
    assert registry.meaning("was ABC-7 deployed to prod") == "release ABC-7"
    assert registry.meaning("release PROJ-9") == "release PROJ-9"  # a command line stays as typed
    assert registry.meaning("PROJ-123 is a ticket") == "PROJ-123 is a ticket"  # no question: unknown

"""What a rollout's follower gets from the turn that started it, and the issue keys Jira is told about."""

from __future__ import annotations

import json

from actions.integrations import RolloutStart
from connectors.jira import issue_keys


def test_what_the_turn_told_the_tools_survives_a_stored_job() -> None:
    started = RolloutStart(7, "acme/shop", "a1b2c3d", ("✓ GitHub: deployment 7 …",), "uXjVOD6LSME=")
    stored = json.loads(json.dumps(started.to_json()))  # as the durable queue keeps job arguments
    assert RolloutStart.from_json(stored) == started
    assert RolloutStart.from_json(None) == RolloutStart() == RolloutStart.from_json({})


def test_issue_keys_are_named_once_in_the_order_commits_name_them() -> None:
    messages = ("PROJ-124 Retry (PROJ-120 follow-up)", "Merge #45\n\nPROJ-123 Pin", "proj-9 lower case, A-1")
    assert issue_keys(messages) == ["PROJ-124", "PROJ-120", "PROJ-123"]

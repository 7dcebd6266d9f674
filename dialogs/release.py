"""`release <ISSUE-KEY>` ("is PROJ-123 live?"): where an issue stands, in one answer, as the person asking.

Jira says what the issue is; GitHub which pull requests mention it and their merge commits; the clusters
which commit each Deployment runs (cluster.source: the `deploy --commit --repo` annotations, else the
image's OCI labels through Docker Hub); GitHub's compare says whether that commit contains each merge.
Every part is read as the person; a part that fails is one ✗ line (dialogs.release_sources.Trouble).
`status --tickets` uses the same pieces: the issue keys between an app's previous revision and this one.

This module declares the commands and their grammar; the handlers are in `dialogs.release_handlers`,
imported when one of them first runs.
"""

from __future__ import annotations

import re

from bot.commands.grammar import arg
from bot.commands.registry import CommandSet
from connectors.jira import ISSUE_KEY
from dialogs import release_messages as words
from policy.roles import DEFAULT_COMMAND_ROLES

commands = CommandSet(handlers="dialogs.release_handlers")

QUESTION = re.compile(r"\b(live|deployed|released|shipped)\b", re.IGNORECASE)


def issue_key(raw: str) -> str:
    """A Jira issue key: project key (a capital letter, then capitals or digits), a dash, a number."""
    key = raw.strip()
    if not ISSUE_KEY.fullmatch(key.upper()):
        raise ValueError(words.UNKNOWN_KEY.format(key=repr(raw)))
    return key.upper()


@commands.phrase
def question_command(text: str) -> str | None:
    """`release KEY` for a plain question that names an issue key and asks whether it is live,
    deployed, released or shipped ("is PROJ-123 live?"); None for anything else."""
    key = ISSUE_KEY.search(text)
    return f"release {key.group(0)}" if key and QUESTION.search(text) else None


commands.declare(
    "release",
    "Where an issue stands: Jira, its pull requests, and which environments run them.",
    params=[arg("key", "Which issue (PROJ-123)", type=issue_key)],
    roles=(DEFAULT_COMMAND_ROLES["release"],),
    examples=("release PROJ-123", "is PROJ-123 live?"),
    details="Reads Jira, GitHub and Docker Hub as you, where you have signed in; a missing one is a ✗ line.",
)

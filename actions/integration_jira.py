"""Jira hears about a deploy or a rollback: a comment on each issue the new revision shipped or took
back, read from the commit messages between the previous revision's source commit and the new one's
(GitHub compare, as the person), and optionally a transition of the shipped ones (`--jira-transition`).
"""

from __future__ import annotations

from actions import integration_messages as words
from actions.blocking import call
from actions.integration_reach import Reach
from cluster.source import RunningSource, running_sources
from cluster.target import ClusterTarget
from connectors import errors
from connectors.github import GithubConnector
from connectors.jira import IssueNotFound, JiraConnector, TransitionNotOffered, issue_keys

MAX_ISSUES = 20  # a deploy that names more issues than this is commented on for the first ones only
TOOL = "Jira"


async def tell_jira(reach: Reach, target: ClusterTarget, app: str, transition: str) -> list[str]:
    """Comment on the issues the running revision of `app` shipped or reverted; the lines to show."""
    running = await call(running_sources, target)
    here = next((r for r in running if r.namespace == target.namespace and r.app == app), None)
    if here is None or here.source is None:
        return [words.NO_SOURCE.format(tool=TOOL, app=app)]
    if here.previous is None or here.previous.repo != here.source.repo:
        return [words.OK.format(tool=TOOL, what=words.FIRST_REVISION.format(revision=here.revision))]
    changed = await _changed(reach, here)
    if isinstance(changed, str):
        return [changed]
    shipped, reverted = changed
    if not shipped and not reverted:
        what = words.NO_KEYS.format(previous=here.previous_revision, revision=here.revision)
        return [words.OK.format(tool=TOOL, what=what)]
    return await _comment(reach, here, shipped[:MAX_ISSUES], reverted[:MAX_ISSUES], transition)


async def _changed(reach: Reach, here: RunningSource) -> tuple[list[str], list[str]] | str:
    """(keys shipped, keys reverted): in the commits the running revision has and the previous one
    lacked, and in those the previous one had and the running one lacks."""
    access = await reach.connector("github", GithubConnector)
    if isinstance(access, str):
        return words.FAILED.format(tool=TOOL, reason=words.NEEDS_GITHUB, action=access.removeprefix("✗ "))
    github, credentials = access
    assert here.source is not None and here.previous is not None
    repo, now, before = here.source.repo, here.source.commit, here.previous.commit
    try:
        forward = await github.compare(credentials, repo, before, now)
        back = await github.compare(credentials, repo, now, before) if forward.behind_by else None
    except errors.VerificationError as exc:
        return Reach.failed(exc)
    shipped = issue_keys(forward.messages)
    reverted = [key for key in issue_keys(back.messages if back else ()) if key not in shipped]
    return shipped, reverted


async def _comment(
    reach: Reach, here: RunningSource, shipped: list[str], reverted: list[str], transition: str
) -> list[str]:
    access = await reach.connector("jira", JiraConnector)
    if isinstance(access, str):
        return [access]
    jira, credentials = access
    assert here.source is not None
    values = {
        "environment": here.namespace,
        "person": reach.actor.name,
        "app": here.app,
        "revision": here.revision,
        "repo": here.source.repo,
        "short": here.source.short,
    }
    done: list[str] = []
    moved: list[str] = []
    lines: list[str] = []
    status = transition
    plan = [(key, words.DEPLOYED_COMMENT) for key in shipped] + [
        (key, words.REVERTED_COMMENT) for key in reverted
    ]
    for key, template in plan:
        try:
            await jira.add_comment(credentials, key, template.format(**values))
            done.append(key)
            if transition and key in shipped:
                status = await jira.transition(credentials, key, transition)
                moved.append(key)
        except (IssueNotFound, TransitionNotOffered) as exc:
            lines.append(words.ISSUE_TROUBLE.format(key=key, reason=exc.reason, action=exc.action))
        except errors.VerificationError as exc:  # the sign-in or the site: the other issues would fail alike
            lines.append(words.ISSUE_TROUBLE.format(key=key, reason=exc.reason, action=exc.action))
            break
    what = words.COMMENTED.format(keys=", ".join(done) or "none")
    if moved:
        what += words.TRANSITIONED.format(keys=", ".join(moved), status=status)
    return [words.OK.format(tool=TOOL, what=what), *lines] if done else lines

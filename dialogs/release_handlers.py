"""What `release` and `status --tickets` do (`dialogs.release` declares them): gather Jira, GitHub and the
clusters as the person asking, and answer in one message; a part that fails is one ✗ line.

Imported when one of these commands first runs, so k8or starts without the libraries it uses.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from actions.blocking import call
from bot.commands.grammar import Arguments
from bot.context import CommandContext
from cluster.source import SOURCE_COMMIT, SOURCE_REPO, RunningSource, running_sources
from cluster.target import ClusterTarget
from connectors import errors
from connectors.github import Comparison, GithubConnector, PullRequestRef
from connectors.jira import IssueRelease, JiraConnector, issue_keys
from dialogs import release_messages as words
from dialogs.release_sources import (
    Access,
    Trouble,
    environments,
    person_access,
    trouble_from,
    with_image_sources,
)


@dataclass
class Findings:
    """What one release question gathered; rendered by `answer`."""

    key: str
    issue: IssueRelease | None = None
    pulls: tuple[PullRequestRef, ...] = ()
    repositories: tuple[str, ...] = ()
    places: list[tuple[RunningSource, list[Comparison]]] = field(default_factory=list)
    unsourced: list[RunningSource] = field(default_factory=list)
    troubles: list[Trouble] = field(default_factory=list)
    where: str = ""
    clusters_failed: bool = False  # no cluster could be read: then no hint about source commits


async def release(ctx: CommandContext, args: Arguments) -> str:
    found = Findings(args.key, where=f"`{ctx.cluster}`" if ctx.cluster else words.NO_CLUSTERS)
    issue, (running, troubles) = await asyncio.gather(_issue(ctx, args.key), environments(ctx))
    running, labelled = await with_image_sources(ctx, running)
    found.troubles += [t for t in (issue,) if isinstance(t, Trouble)] + troubles + labelled
    found.issue = issue if isinstance(issue, IssueRelease) else None
    found.unsourced = [r for r in running if r.source is None]
    found.clusters_failed = bool(troubles) and not running
    found.repositories = tuple(sorted({r.source.repo for r in running if r.source}))
    if found.repositories:
        await _placements(ctx, found, [r for r in running if r.source])
    return answer(found)


async def _issue(ctx: CommandContext, key: str) -> IssueRelease | Trouble:
    access = await person_access(ctx, "jira")
    if isinstance(access, Trouble):
        return access
    if not isinstance(access.connector, JiraConnector):
        return Trouble(access.connector.display_name, words.NOT_CONFIGURED, words.ASK_OPERATORS)
    try:
        return await access.connector.issue_release(access.credentials, key)
    except errors.VerificationError as exc:
        return trouble_from(exc)


async def github(ctx: CommandContext) -> tuple[GithubConnector, Access] | Trouble:
    """The GitHub connector and the person's credentials for it, or why not."""
    access = await person_access(ctx, "github")
    if isinstance(access, Trouble):
        return access
    if not isinstance(access.connector, GithubConnector):
        return Trouble(access.connector.display_name, words.NOT_CONFIGURED, words.ASK_OPERATORS)
    return access.connector, access


async def _placements(ctx: CommandContext, found: Findings, running: list[RunningSource]) -> None:
    """The pull requests that mention the key, and for each Deployment of their repository whether the
    commit it runs contains every merge."""
    reached = await github(ctx)
    if isinstance(reached, Trouble):
        found.troubles.append(reached)
        return
    connector, access = reached
    try:
        found.pulls = await connector.search_pull_requests(access.credentials, found.key, found.repositories)
    except errors.VerificationError as exc:
        found.troubles.append(trouble_from(exc))
        return
    compare = Comparisons(connector, access)
    for place in running:
        merges = [p.merge_commit for p in found.pulls if p.merged and p.repository == _repo(place)]
        if merges:
            checked = [await compare(_repo(place), merge, _commit(place)) for merge in merges]
            if all(c is not None for c in checked):
                found.places.append((place, [c for c in checked if c is not None]))
    found.troubles += compare.troubles


def _repo(place: RunningSource) -> str:
    return place.source.repo if place.source else ""


def _commit(place: RunningSource) -> str:
    return place.source.commit if place.source else ""


class Comparisons:
    """GitHub compare calls for one answer, each asked once; a failing repository is one ✗ line."""

    def __init__(self, connector: GithubConnector, access: Access) -> None:
        self.connector, self.access = connector, access
        self.seen: dict[tuple[str, str, str], Comparison | None] = {}
        self.troubles: list[Trouble] = []

    async def __call__(self, repository: str, base: str, head: str) -> Comparison | None:
        """`compare/{base}...{head}`. Called as merge...running, `identical` or `ahead` means the
        running commit contains the merge (head has every commit of base); `behind_by` counts the
        merge's commits the running one lacks."""
        key = (repository, base, head)
        if key not in self.seen:
            try:
                self.seen[key] = await self.connector.compare(self.access.credentials, repository, base, head)
            except errors.VerificationError as exc:
                self.seen[key] = None
                if not any(t.what == words.COMPARE.format(repo=repository) for t in self.troubles):
                    self.troubles.append(
                        Trouble(words.COMPARE.format(repo=repository), exc.reason, exc.action)
                    )
        return self.seen[key]


def answer(found: Findings) -> str:
    """One paragraph: the issue, its merges, and each environment; then the ✗ lines."""
    parts = [_headline(found)]
    live = [p for p in found.places if all(c.head_contains_base for c in p[1])]
    waiting = [p for p in found.places if p not in live]
    labels = _labels([p for p, _ in found.places])
    parts += [_live(place, labels[id(place)]) for place, _ in live]
    parts += [_not_yet(place, comparisons, labels[id(place)]) for place, comparisons in waiting]
    text = "; ".join(parts)
    if not found.repositories and not found.clusters_failed:
        text += "\n" + words.NO_SOURCES.format(
            where=found.where, key=found.key, commit_annotation=SOURCE_COMMIT, repo_annotation=SOURCE_REPO
        )
    return "\n".join([text, *(t.line for t in found.troubles)])


def _headline(found: Findings) -> str:
    issue = found.issue
    merged = _merged(found)
    if issue is None:
        return words.KEY_ONLY.format(key=found.key) + merged
    details = words.ASSIGNED.format(name=issue.assignee) if issue.assignee else words.UNASSIGNED
    for name, released, _date in issue.fix_versions:
        details += words.FIX_VERSION.format(name=name, state=words.RELEASED if released else words.UNRELEASED)
    return words.HEADLINE.format(
        key=issue.key, summary=issue.summary, status=issue.status, details=details, merged=merged
    )


def _merged(found: Findings) -> str:
    if not found.repositories:
        return ""
    if not found.pulls:
        return words.NO_PULLS.format(repositories=", ".join(f"`{r}`" for r in found.repositories))
    links = [_pull_link(p) for p in found.pulls]
    return words.MERGED_IN.format(pulls=", ".join(links))


def _pull_link(pull: PullRequestRef) -> str:
    link = f"[#{pull.number}]({pull.url})"
    if pull.merged:
        return link
    return (words.OPEN_PULL if pull.state == "open" else words.CLOSED_PULL).format(link=link)


def _labels(places: list[RunningSource]) -> dict[int, str]:
    """Each environment is its namespace, with the app named when one namespace runs several."""
    count: dict[str, int] = {}
    for place in places:
        count[place.namespace] = count.get(place.namespace, 0) + 1
    return {
        id(p): p.namespace
        if count[p.namespace] == 1
        else words.ENV_WITH_APP.format(namespace=p.namespace, app=p.app)
        for p in places
    }


def _live(place: RunningSource, env: str) -> str:
    values = {"env": env, "revision": place.revision, "image": words.short_image(place.image)}
    if not place.rolled_out:
        return words.ROLLING_OUT.format(**values)
    if place.since is None:
        return words.LIVE_NO_TIME.format(**values)
    return words.LIVE.format(since=words.clock(place.since), **values)


def _not_yet(place: RunningSource, comparisons: list[Comparison], env: str) -> str:
    missing = [c for c in comparisons if not c.head_contains_base]
    count = max(c.behind_by for c in missing)
    template = words.BEHIND if all(c.status == "behind" for c in missing) else words.DIVERGED
    distance = template.format(count=count, s=words.plural(count))
    return words.NOT_YET.format(env=env, commit=_commit(place)[:7], distance=distance)


# --- status --tickets --------------------------------------------------------------------------------


async def shipped_tickets(ctx: CommandContext, target: ClusterTarget) -> str:
    """Per app in the target's namespace: the issue keys in the commits between the previous
    revision's source commit and the running one's (GitHub compare previous...running)."""
    running = [r for r in await call(running_sources, target) if r.namespace == target.namespace]
    if not running:
        return words.TICKETS_EMPTY.format(namespace=target.namespace)
    reached = await github(ctx)
    lines = [words.TICKETS_HEADER.format(namespace=target.namespace)]
    if isinstance(reached, Trouble):
        return "\n".join([*lines, reached.line])
    connector, access = reached
    for place in sorted(running, key=lambda r: r.app):
        lines.append(await _tickets_line(connector, access, place))
    return "\n".join(lines)


async def _tickets_line(connector: GithubConnector, access: Access, place: RunningSource) -> str:
    source, previous = place.source, place.previous
    if source is None:
        return words.TICKETS_NO_SOURCE.format(app=place.app, revision=place.revision)
    if previous is None or previous.repo != source.repo:
        return words.TICKETS_FIRST.format(app=place.app, revision=place.revision, commit=source.short)
    try:
        # previous...running: the commits the running revision has and the previous one lacked.
        compared = await connector.compare(access.credentials, source.repo, previous.commit, source.commit)
    except errors.VerificationError as exc:
        return words.TICKETS_TROUBLE.format(app=place.app, reason=exc.reason, action=exc.action)
    head = {"app": place.app, "revision": place.revision, "commit": source.short}
    if compared.status == "behind":
        return words.TICKETS_LINE.format(
            keys=words.TICKETS_BACK.format(previous=place.previous_revision), **head
        )
    keys = issue_keys(compared.messages)
    none = words.TICKETS_NONE.format(count=compared.ahead_by, s=words.plural(compared.ahead_by))
    return words.TICKETS_LINE.format(keys=", ".join(keys) or none, **head)

"""What a deploy or a rollback tells the tools around the app, as the person who ran it.

Each tool is opted into per app (`integrate`, kept by actions.integration_store) and reached through
its connector with that person's sign-in: GitHub records a deployment and its statuses, Toggl Track
times the incident a rollback opens, Jira hears about the issues shipped or reverted
(actions.integration_jira), Miro gets the rollout's picture. Whatever goes wrong is one ✗ line in
the command's reply; the deploy or rollback itself is never failed by a tool. Calls that create
something (a deployment, a status, a time entry) are sent once and never retried: a time-out may
have created it.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from actions import integration_messages as words
from actions.integration_jira import tell_jira
from actions.integration_reach import Actor, Reach
from actions.integration_store import IncidentTimer, Integration, IntegrationStore, Place
from actions.rollout_picture import draw_timeline
from bot.services import Services
from cluster.rollout import COMPLETE, RolloutProgress
from cluster.source import SourceRef
from cluster.target import ClusterTarget
from connectors import errors
from connectors.github import GithubConnector
from connectors.miro import MiroConnector
from connectors.toggl import TimeEntry, TogglConnector

ROLLBACK = "Rollback"


@dataclass(frozen=True)
class RolloutStart:
    """What the turn told the tools, carried to the job that follows the rollout (as JSON)."""

    deployment: int = 0
    repo: str = ""
    commit: str = ""
    lines: tuple[str, ...] = ()
    board: str = ""  # a Miro board named for this deploy (`deploy … --miro-board`)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "lines": list(self.lines)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> RolloutStart:
        data = data or {}
        return cls(
            int(data.get("deployment") or 0),
            str(data.get("repo") or ""),
            str(data.get("commit") or ""),
            tuple(str(line) for line in data.get("lines") or ()),
            str(data.get("board") or ""),
        )


def store(services: Services) -> IntegrationStore:
    return IntegrationStore(services.db)


def place_of(target: ClusterTarget, app: str = "") -> Place:
    """Where an app runs, from the cluster target a command acts on."""
    return Place(target.name, target.namespace, app)


def _on(tools: list[Integration], name: str) -> Integration | None:
    return next((t for t in tools if t.tool == name), None)


async def rollout_started(
    services: Services, actor: Actor, place: Place, action: str, source: SourceRef | None
) -> RolloutStart:
    """In the turn that asked: a GitHub deployment (in progress) for the source commit, and for a
    rollback a Toggl entry for the person. Nothing is sent for tools the app has not opted into."""
    tools = await store(services).of(place)
    reach = Reach(services, actor)
    lines: list[str] = []
    deployment = 0
    if _on(tools, "github"):
        deployment, line = await _deployment_started(reach, place, action, source)
        lines.append(line)
    if action == ROLLBACK and _on(tools, "toggl"):
        lines.append(await _timer_started(services, reach, place))
    return RolloutStart(
        deployment, source.repo if source else "", source.commit if source else "", tuple(lines)
    )


async def _deployment_started(
    reach: Reach, place: Place, action: str, source: SourceRef | None
) -> tuple[int, str]:
    tool = "GitHub"
    if source is None:
        return 0, words.NO_SOURCE.format(tool=tool, app=place.app)
    access = await reach.connector("github", GithubConnector)
    if isinstance(access, str):
        return 0, access
    connector, credentials = access
    description = words.DEPLOYMENT_DESCRIPTION.format(action=action, app=place.app, person=reach.actor.name)
    try:
        made = await connector.create_deployment(
            credentials, source.repo, source.commit, place.namespace, description
        )
    except errors.VerificationError as exc:
        return 0, Reach.failed(exc)
    what = words.DEPLOYMENT_STARTED.format(
        id=made, repo=source.repo, short=source.short, environment=place.namespace
    )
    try:
        await connector.deployment_status(credentials, source.repo, made, "in_progress", description)
    except errors.VerificationError as exc:
        return made, Reach.failed(exc)
    return made, words.OK.format(tool=tool, what=what)


async def _timer_started(services: Services, reach: Reach, place: Place) -> str:
    access = await reach.connector("toggl", TogglConnector)
    if isinstance(access, str):
        return access
    connector, credentials = access
    description = words.INCIDENT.format(app=place.app, environment=place.namespace)
    try:
        entry = await connector.start_time_entry(credentials, description, tags=("k8or",))
    except errors.VerificationError as exc:
        return Reach.failed(exc)
    timer = IncidentTimer(place, reach.actor.key, entry.workspace_id, entry.entry_id, description)
    await store(services).start_timer(timer)
    return words.OK.format(
        tool=connector.display_name, what=words.TIMER_STARTED.format(description=description)
    )


async def rollout_ended(
    services: Services,
    actor: Actor,
    target: ClusterTarget,
    app: str,
    action: str,
    ended: RolloutProgress | None,
    started: RolloutStart,
    timeline: list[RolloutProgress],
) -> list[str]:
    """When the rollout follower ends: the deployment's last status (success or failure; after a
    rollback the deployment it replaced turns inactive), Jira comments on the issues the new
    revision shipped or reverted, and the timeline on a Miro board. Each tool is one line."""
    ok = ended is not None and ended.state == COMPLETE
    place = place_of(target, app)
    tools = await store(services).of(place)
    reach = Reach(services, actor)
    lines: list[str] = []
    if started.deployment:
        lines.append(await _deployment_ended(reach, place, action, ok, started))
    jira = _on(tools, "jira")
    if ok and jira:
        lines += await tell_jira(reach, target, app, jira.settings.get("transition", ""))
    miro = _on(tools, "miro")
    board = started.board or (miro.settings.get("board", "") if miro else "")
    if board:
        lines.append(await _timeline_posted(reach, place, action, board, timeline))
    return lines


async def _deployment_ended(reach: Reach, place: Place, action: str, ok: bool, started: RolloutStart) -> str:
    access = await reach.connector("github", GithubConnector)
    if isinstance(access, str):
        return access
    connector, credentials = access
    state = "success" if ok else "failure"
    description = words.DEPLOYMENT_DESCRIPTION.format(action=action, app=place.app, person=reach.actor.name)
    what = words.DEPLOYMENT_ENDED.format(id=started.deployment, environment=place.namespace, state=state)
    try:
        await connector.deployment_status(credentials, started.repo, started.deployment, state, description)
        if ok and action == ROLLBACK:
            newest = await connector.latest_deployments(credentials, started.repo, place.namespace)
            replaced = next((d for d in newest if d < started.deployment), 0)
            if replaced:
                await connector.deployment_status(
                    credentials, started.repo, replaced, "inactive", description
                )
                what += words.DEPLOYMENT_REPLACED.format(previous=replaced)
    except errors.VerificationError as exc:
        return Reach.failed(exc)
    return words.OK.format(tool=connector.display_name, what=what)


async def _timeline_posted(
    reach: Reach, place: Place, action: str, board: str, timeline: list[RolloutProgress]
) -> str:
    title = words.PICTURE_TITLE.format(action=action, app=place.app, environment=place.namespace)
    png = await asyncio.to_thread(draw_timeline, timeline, title)
    if png is None:
        return words.NO_PICTURE
    return await picture_to_board(reach, board, title, png)


async def picture_to_board(reach: Reach, board: str, title: str, png: bytes) -> str:
    """Put a PNG on a Miro board as the person: one line saying where, or why not. (`k8orize …
    --miro-board` can post its pipeline.png the same way: `picture_to_board(Reach(services, actor), …)`.)"""
    access = await reach.connector("miro", MiroConnector)
    if isinstance(access, str):
        return access
    connector, credentials = access
    try:
        item = await connector.add_image(credentials, board, title, png)
    except errors.VerificationError as exc:
        return Reach.failed(exc)
    link = connector.item_link(board, item)
    return words.OK.format(
        tool=connector.display_name, what=words.PICTURE_POSTED.format(title=title, link=link)
    )


async def resolve(services: Services, actor: Actor, place: Place) -> list[str]:
    """Stop the Toggl entries rollbacks started for this app: the asker's through their sign-in.
    Also what the app turning healthy calls (the on-call alert's resolution), as each timer's owner."""
    timers = [t for t in await store(services).timers(place) if t.person == actor.key]
    if not timers:
        return [words.NO_TIMER.format(app=place.app, environment=place.namespace)]
    return [await _timer_stopped(services, Reach(services, actor), timer) for timer in timers]


async def app_healthy(services: Services, place: Place) -> list[str]:
    """The app turned healthy (the on-call alert resolved): stop every entry rollbacks started for it,
    each through its owner's sign-in."""
    timers = await store(services).timers(place)
    return [await _timer_stopped(services, Reach(services, Actor(t.person, t.person)), t) for t in timers]


async def _timer_stopped(services: Services, reach: Reach, timer: IncidentTimer) -> str:
    access = await reach.connector("toggl", TogglConnector)
    if isinstance(access, str):
        return access
    connector, credentials = access
    try:
        await connector.stop_time_entry(
            credentials, TimeEntry(timer.workspace_id, timer.entry_id, timer.description)
        )
    except errors.VerificationError as exc:
        return Reach.failed(exc)
    await store(services).forget_timer(timer)
    return words.OK.format(
        tool=connector.display_name, what=words.TIMER_STOPPED.format(description=timer.description)
    )

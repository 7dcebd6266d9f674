"""What `release` reads as the person asking: their sign-ins, and which commit each Deployment runs.

A service that cannot be used (not signed in, not configured, timing out, refusing) becomes a
`Trouble`: one ✗ line in the answer, never a failed answer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from urllib.parse import urlsplit

from actions.blocking import call
from bot.context import CommandContext
from bot.errors import K8orError
from bot.signin.components import owner_label
from cluster.errors import ClusterError
from cluster.names import repository_name
from cluster.source import RunningSource, SourceRef, running_sources
from connectors import errors
from connectors.base import Connector, Credentials
from connectors.dockerhub import REVISION_LABEL, SOURCE_LABEL, DockerhubConnector
from dialogs import release_messages as words
from dialogs.cluster_targets import directory


@dataclass(frozen=True)
class Trouble:
    """A part of the answer that could not be had: what, why, and what the person can do."""

    what: str
    reason: str
    action: str = ""
    link: str = ""  # a personal sign-in link, only ever shown in a one-to-one chat

    @property
    def line(self) -> str:
        text = words.TROUBLE.format(what=self.what, reason=self.reason, action=self.action).rstrip()
        return text + (words.SIGN_IN_LINK.format(link=self.link) if self.link else "")


@dataclass(frozen=True)
class Access:
    """A connector and the person's credentials for it."""

    connector: Connector
    credentials: Credentials


def trouble_from(exc: errors.VerificationError) -> Trouble:
    """A connector's error as one ✗ line (its texts never carry a response body or a secret)."""
    return Trouble(exc.display_name, exc.reason, exc.action)


async def person_access(ctx: CommandContext, service: str) -> Access | Trouble:
    """The person's credentials for `service`, or why there are none (with a sign-in link in private)."""
    signin = ctx.services.signin
    connector = signin.connector(service) if signin is not None else None
    if signin is None or connector is None:
        return Trouble(service, words.NOT_CONFIGURED, words.ASK_OPERATORS)
    credentials = await signin.vault.get(ctx.person.key, connector.name)
    if credentials is not None:
        return Access(connector, credentials)
    missing = connector.error(errors.NotSignedIn)
    link = ""
    if not ctx.is_group:  # links are personal: never posted to a room
        link, _expires = await signin.login_link(ctx.person.key, connector.name, owner_label(ctx.person))
    return Trouble(connector.display_name, missing.reason, missing.action, link)


async def environments(ctx: CommandContext) -> tuple[list[RunningSource], list[Trouble]]:
    """Every Deployment on the clusters this conversation may use: its chosen one, or, before one is
    chosen, every context k8or offers. A cluster that cannot be read is one Trouble."""
    try:
        clusters = directory(ctx)
        names = [ctx.cluster] if ctx.cluster else await clusters.contexts()
    except K8orError as exc:  # no cluster directory on this k8or, or an unreadable kubeconfig
        return [], [Trouble(words.CLUSTERS, str(exc))]
    found: list[RunningSource] = []
    troubles: list[Trouble] = []
    for name in names:
        try:
            target = await clusters.target(ctx, name)
            found += await call(running_sources, target)
        except K8orError as exc:
            troubles.append(Trouble(words.CLUSTER.format(name=name), str(exc)))
    return found, troubles


async def with_image_sources(
    ctx: CommandContext, running: list[RunningSource]
) -> tuple[list[RunningSource], list[Trouble]]:
    """Deployments without source annotations get the commit their image's labels name, read from
    the registry through the person's Docker Hub sign-in (when they have one; else left unknown)."""
    unknown = [r for r in running if r.source is None]
    if not unknown:
        return running, []
    access = await person_access(ctx, "dockerhub")
    if not isinstance(access, Access) or not isinstance(access.connector, DockerhubConnector):
        return running, []  # labels are a fallback: without Docker Hub the sources stay unknown
    labelled: dict[str, SourceRef | None] = {}
    troubles: list[Trouble] = []
    for image in {r.image for r in unknown}:
        try:
            labelled[image] = await _image_source(access.connector, access.credentials, image)
        except errors.VerificationError as exc:
            troubles = [trouble_from(exc)]
            break
    return [_sourced(r, labelled.get(r.image)) for r in running], troubles


def _sourced(running: RunningSource, source: SourceRef | None) -> RunningSource:
    return (
        running
        if running.source is not None or source is None
        else dataclasses.replace(running, source=source)
    )


async def _image_source(
    connector: DockerhubConnector, credentials: Credentials, image: str
) -> SourceRef | None:
    where = connector.registry_image(image)
    if where is None:
        return None
    labels = await connector.image_labels(credentials, *where)
    return source_from_labels(labels)


def source_from_labels(labels: dict[str, str]) -> SourceRef | None:
    """The OCI revision and source labels as a SourceRef, when the source is a GitHub repository."""
    url = urlsplit(labels.get(SOURCE_LABEL, ""))
    path = url.path.strip("/").removesuffix(".git")
    try:
        return SourceRef(repository_name(path), labels.get(REVISION_LABEL, ""))
    except ClusterError:
        return None

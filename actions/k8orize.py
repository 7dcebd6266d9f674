"""k8orize as async actions: the blocking engine in a worker thread, its steps streamed back to the loop,
a few runs at a time per app (the rest queued and told their place), and a GitHub repository
downloaded and unpacked as the person, with an optional pull request carrying the output.

Every library error leaves as a `K8orError` (`actions.errors.translated`); progress is reported as
`(step, status)` pairs to an async callback, which the dialog renders.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from actions.blocking import in_thread
from actions.engine_queue import EngineQueue, ordinal
from actions.errors import ServiceRefused, translated
from actions.repository_source import RepositorySource
from bot.errors import K8orError
from bot.services import ServiceKey, Services
from connectors import errors as connector_errors
from connectors.base import Credentials
from connectors.dockerhub import DockerhubConnector
from connectors.github import GithubConnector
from k8orize import messages as engine_messages
from k8orize.archive import ArchiveLimits, ArchiveRefused, unpack_tar_gz
from k8orize.dockerfile import COMMITTED_AS
from k8orize.engine import K8orizeResult, k8orize
from k8orize.registry_api import RegistryCredentials
from k8orize.request import K8orizeRequest
from k8orize.sandbox import unavailable_reason

StepChange = tuple[str, str]  # (step, status), as the engine's progress callback reports them
OnStep = Callable[[StepChange], Awaitable[None]]
OnWait = Callable[[str], Awaitable[None]]  # the queue's message: where the run stands in line

DOWNLOAD_STEP, PULL_REQUEST_STEP = "download", "pull request"
# Where a pull request puts the engine's text outputs: this folder inside the app's folder, where the
# committed k8or/repository/Dockerfile builds with the app's folder as its context.
PR_FOLDER = COMMITTED_AS
DEFAULT_BASE = "main"
UNPACKED = "unpacked"  # the fresh folder, inside the run's scratch folder, an archive unpacks into
ARCHIVE_LIMITS = ArchiveLimits(members=20_000, total_bytes=500 * 2**20, file_bytes=100 * 2**20)

# At most K8OR_K8ORIZE_CONCURRENCY engine runs at once per app (default 1): a run installs packages and
# starts the app three times, and too many at once on a small host would slow all past their probes'
# timeouts. The others wait in line and are told their place.
ENGINE_QUEUE: ServiceKey[EngineQueue] = ServiceKey("k8orize.engine_queue")
QUEUED = "⏳ Queued: {place} in line; k8or runs {limit} k8orization{s} at a time on this host…"

GITHUB_NOT_CONFIGURED = (
    "GitHub is not set up on this k8or. Ask its operators to configure the GitHub connector."
)
DOCKERHUB_NOT_CONFIGURED = (
    "Docker Hub is not set up on this k8or, so I cannot push. Ask its operators to configure the Docker "
    "Hub connector."
)
UNSAFE_ARCHIVE = "The archive of `{repository}` holds {what}, so I did not unpack it."
NO_SUBFOLDER = "`{repository}` has no folder `{subdir}`."


# --- the engine ------------------------------------------------------------------------------------


def engine_queue(services: Services) -> EngineQueue:
    """This app's engine queue, created with its first run (two apps in one process never share it)."""
    queue = services.capabilities.get(ENGINE_QUEUE)
    if queue is None:
        queue = EngineQueue(services.settings.k8orize_concurrency)
        services.capabilities[ENGINE_QUEUE] = queue
    return queue


def chat_base_image(services: Services) -> str | None:
    """The image chat's builds are FROM (K8OR_K8ORIZE_BASE_IMAGE); None: the Dockerfile's own default."""
    return services.settings.k8orize_base_image or None


async def run_engine(
    services: Services, request: K8orizeRequest, on_step: OnStep, on_wait: OnWait
) -> K8orizeResult:
    """Run the engine in a worker thread once a slot is free (`on_wait` hears the run's place in line
    while it waits), streaming every step change to `on_step`; the engine's errors leave as K8orError."""
    queue = engine_queue(services)

    async def on_place(place: int) -> None:
        limit = queue.limit
        await on_wait(QUEUED.format(place=ordinal(place), limit=limit, s="" if limit == 1 else "s"))

    def work(report: Callable[[StepChange], None]) -> K8orizeResult:
        return k8orize(request, progress=lambda step, status: report((step, status)))

    async with queue.slot(on_place), translated():
        return await in_thread(work, on_step)


async def require_sandbox() -> None:
    """Refuse, in the turn, a run of the app where bubblewrap cannot sandbox it (checked once)."""
    why = await in_thread(lambda _: unavailable_reason())
    if why is not None:
        raise K8orError(engine_messages.SANDBOX_UNAVAILABLE.format(why=why))


# --- GitHub ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GithubAccess:
    """The GitHub connector and one person's credentials for it."""

    connector: GithubConnector
    credentials: Credentials


async def github_access(services: Services, person: str) -> GithubAccess:
    """The GitHub connector and this person's stored credentials (the gate has already asked for them)."""
    signin = services.signin
    connector = signin.connector("github") if signin is not None else None
    if signin is None or not isinstance(connector, GithubConnector):
        raise K8orError(GITHUB_NOT_CONFIGURED)
    credentials = await signin.vault.get(person, "github")
    if credentials is None:  # no gate configured, or the person signed out since
        raise ServiceRefused(connector.error(connector_errors.NotSignedIn))
    return GithubAccess(connector, credentials)


# --- Docker Hub ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushTarget:
    """Where the engine pushes the image, and as whom (the person's Docker ID and access token)."""

    destination: str  # <registry host>/<Docker ID>/<app>
    credentials: RegistryCredentials = field(repr=False)


async def dockerhub_push_target(services: Services, person: str, name: str) -> PushTarget:
    """This person's Docker Hub repository for the app `name`, with their stored credentials; refused
    (ServiceRefused, K8orError) when Docker Hub is not configured or the person has not signed in."""
    signin = services.signin
    connector = signin.connector("dockerhub") if signin is not None else None
    if signin is None or not isinstance(connector, DockerhubConnector):
        raise K8orError(DOCKERHUB_NOT_CONFIGURED)
    credentials = await signin.vault.get(person, "dockerhub")
    if credentials is None:
        raise ServiceRefused(connector.error(connector_errors.NotSignedIn))
    return PushTarget(
        connector.push_repository(credentials, name),
        RegistryCredentials(credentials["username"], credentials["token"]),
    )


class UnsafeArchive(K8orError):
    """A downloaded archive holds something that could land outside its folder."""


def unpack_repository(archive: bytes, into: Path, repository: str) -> Path:
    """Unpack GitHub's tar.gz into a fresh folder under `into`; return its single top folder.

    The engine's streaming unpacker checks every member as it is read (see k8orize.archive): a
    refusal names what was found and leaves nothing behind.
    """
    try:
        return unpack_tar_gz(io.BytesIO(archive), into / UNPACKED, ARCHIVE_LIMITS)
    except ArchiveRefused as refused:
        raise UnsafeArchive(UNSAFE_ARCHIVE.format(repository=repository, what=refused.what)) from None


def app_folder(top: Path, source: RepositorySource) -> Path:
    """The folder to k8orize inside the unpacked repository."""
    if not source.subdir:
        return top
    folder = (top / source.subdir).resolve()
    if not folder.is_relative_to(top.resolve()) or not folder.is_dir():
        raise K8orError(NO_SUBFOLDER.format(repository=source.repository, subdir=source.subdir))
    return folder


@asynccontextmanager
async def downloaded(
    access: GithubAccess, source: RepositorySource, workspace: Path, on_step: OnStep
) -> AsyncIterator[Path]:
    """The repository's app folder, downloaded as the person into a scratch folder of `workspace` that
    lives only as long as this context: nothing of the download is left behind, success or not."""
    workspace.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".github-", dir=workspace))
    try:
        await on_step((DOWNLOAD_STEP, "running"))
        async with translated():
            archive = await access.connector.download_repository(
                access.credentials, source.repository, source.ref
            )
        top = await in_thread(lambda _: unpack_repository(archive, scratch, source.repository))
        folder = app_folder(top, source)
        await on_step((DOWNLOAD_STEP, "ok"))
        yield folder
    finally:
        await in_thread(lambda _: shutil.rmtree(scratch, ignore_errors=True))


@dataclass(frozen=True)
class PullRequest:
    """What the pull request says; the engine's summary opens its body."""

    base: str
    branch: str
    title: str
    note: str
    message: str


def pull_request_files(result: K8orizeResult, source: RepositorySource) -> dict[str, str]:
    """The engine's text outputs, keyed by their path in the repository (k8or/ in the app's folder)."""
    folder = f"{source.subdir}/{PR_FOLDER}" if source.subdir else PR_FOLDER
    return {f"{folder}/{path}": text for path, text in result.text_outputs().items()}


async def open_pull_request(
    access: GithubAccess, source: RepositorySource, result: K8orizeResult, pr: PullRequest, on_step: OnStep
) -> str:
    """Open the pull request as the person; its URL. A refusal (ServiceRefused) is the caller's to
    report: it does not undo the k8orization."""
    await on_step((PULL_REQUEST_STEP, "running"))
    files = await in_thread(lambda _: pull_request_files(result, source))
    try:
        async with translated():
            url = await access.connector.open_pull_request(
                access.credentials,
                source.repository,
                base=pr.base,
                branch=pr.branch,
                title=pr.title,
                body=f"{result.summary()}\n\n{pr.note}",
                files=files,
                message=pr.message,
            )
    except ServiceRefused:
        await on_step((PULL_REQUEST_STEP, "failed"))
        raise
    await on_step((PULL_REQUEST_STEP, "ok"))
    return url

"""`k8orize <folder>` and `k8orize repo <owner/repo[@ref][:subdir]>`: the k8orization engine from chat.

The engine (`k8orize/`) is a blocking library. These commands only choose the source (a folder inside
k8or's workspace, or a GitHub repository downloaded as the person), run the engine in a worker thread
after the turn has answered, keep ONE progress message up to date, and hand back the summary, the
pipeline picture and, on request, a pull request that carries the output.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import re
import shutil
import tempfile
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from botbuilder.schema import Attachment

from bot import messages as bot_messages
from bot.commands.grammar import Param, arg, opt
from bot.commands.registry import CommandSet
from bot.context import CommandContext, ProgressMessage, Reply
from bot.errors import K8orError, UsageError
from bot.signin.components import EXTRAS_KEY
from connectors import errors as connector_errors
from connectors.base import Credentials
from connectors.github import GithubConnector
from k8orize.archive import ArchiveLimits, ArchiveRefused, unpack_tar_gz
from k8orize.engine import K8orizeResult, k8orize
from k8orize.errors import K8orizeError
from k8orize.request import K8orizeRequest, dns_name, parse_env, request_from_options
from k8orize.steps import STEPS

log = logging.getLogger(__name__)
commands = CommandSet()

WORKSPACE = "workspace"  # under settings.data_dir: the only folders chat may point the engine at
OUTPUTS = "k8orize"  # under settings.data_dir: one folder per run, <name>-<short id>
DOWNLOAD_STEP, PULL_REQUEST_STEP = "download", "pull request"
# The text outputs a pull request carries under k8or/; image/ (the trimmed tree) and the PNG are not.
PR_FILES = (
    "Dockerfile",
    "manifests/*.yaml",
    "seccomp.json",
    "security-profiles-operator/*.yaml",
    "audit.rules",
    "report.json",
    "SUMMARY.md",
    "README.md",
)
PR_FOLDER = "k8or"
DEFAULT_BASE = "main"
UNPACKED = "unpacked"  # the fresh folder, inside the run's scratch folder, an archive unpacks into
ARCHIVE_LIMITS = ArchiveLimits(members=20_000, total_bytes=500 * 2**20, file_bytes=100 * 2**20)
ICONS = {"running": "…", "ok": "✓", "warn": "⚠", "failed": "✗", "skipped": "–"}
PENDING = "·"

# --- what the commands say -------------------------------------------------------------------------

OUTSIDE_WORKSPACE = (
    "`{path}` is outside k8or's workspace, so I won't k8orize it. I only k8orize folders inside the "
    "workspace: copy the app there, or use `k8orize repo owner/repo`."
)
WORKSPACE_ITSELF = "Name a folder inside k8or's workspace, not the workspace itself.{known}"
NO_SUCH_FOLDER = "There is no folder `{path}` in k8or's workspace.{known}"
KNOWN_FOLDERS = " Folders there: {names}."
EMPTY_WORKSPACE = " The workspace has no folders yet."
MAYBE_REPOSITORY = " For a GitHub repository, say `k8orize repo {path}`."
RUN_NEEDS_ADMIN = (
    "`--run` starts your app on the k8or host (under strace), so it needs the `admin` role; you have: "
    "{held}. Leave out `--run` to k8orize without running the app, or ask an admin."
)
BASE_WITHOUT_PR = "`--base` names the pull request's target branch; add `--pr` to open one."
GITHUB_NOT_CONFIGURED = (
    "GitHub is not set up on this k8or. Ask its operators to configure the GitHub connector."
)
UNSAFE_ARCHIVE = "The archive of `{repository}` holds {what}, so I did not unpack it."
NO_SUBFOLDER = "`{repository}` has no folder `{subdir}`."
STARTED_FOLDER = "⏳ k8orizing `{name}` from the workspace folder `{source}`…"
STARTED_REPOSITORY = "⏳ k8orizing `{name}` from GitHub `{source}`…"
FINISHED = "✓ k8orized `{name}` in {seconds:.0f} s."
FINISHED_WITH_FAILURES = "⚠ k8orized `{name}` in {seconds:.0f} s; some checks failed (see the summary)."
STOPPED = "✗ k8orizing `{name}` stopped: {reason}"
OUTPUT_AT = "Output: `{folder}` in k8or's data folder."
PR_OPENED = "Pull request: {url}"
PR_NOT_OPENED = "✗ The pull request was not opened: {reason}"
PR_TITLE = "k8orize {name}: Dockerfile, manifests and seccomp profile"
PR_MESSAGE = "k8orize {name}: add the k8or/ output"
PR_NOTE = (
    "Opened by k8or for {person} (`k8orize repo {source}`).\n\n"
    "Not included, because they are binary or large: `image/` (the trimmed tree the Dockerfile copies; "
    "run `python -m k8orize` on the app to produce it before `docker build`) and `pipeline.png`."
)


# --- grammar ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepositorySource:
    """`owner/repo[@ref][:subdir]`: which repository, which ref (default branch when None), which folder."""

    repository: str
    ref: str | None = None
    subdir: str | None = None

    PATTERN = re.compile(
        r"^(?P<repository>[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100})"
        r"(?:@(?P<ref>[^:\s]+))?(?::(?P<subdir>.+))?$"
    )

    @classmethod
    def parse(cls, raw: str) -> RepositorySource:
        """The grammar's converter: a ValueError names what is wrong."""
        found = cls.PATTERN.match(raw.strip())
        if not found or found["repository"].split("/")[1] in (".", ".."):
            raise ValueError("expected owner/repo, optionally @ref and :folder (octo/shop@main:web)")
        subdir = (found["subdir"] or "").strip("/") or None
        if subdir and ".." in PurePosixPath(subdir).parts:
            raise ValueError(f"the folder `{subdir}` must be inside the repository")
        return cls(found["repository"], found["ref"], subdir)

    @property
    def app_name(self) -> str:
        """The folder's name, else the repository's: the extracted top folder is `owner-repo-<sha>`."""
        return PurePosixPath(self.subdir).name if self.subdir else self.repository.split("/")[1]

    def __str__(self) -> str:
        return (
            self.repository
            + (f"@{self.ref}" if self.ref else "")
            + (f":{self.subdir}" if self.subdir else "")
        )


def _port(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ValueError(f"{raw!r} is not a port (1-65535)")
    return int(raw)


def _probe(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError(f"{raw!r} is not an http(s) URL")
    return raw


def _env_pair(raw: str) -> tuple[str, str]:
    try:
        return next(iter(parse_env([raw]).items()))
    except K8orizeError:
        raise ValueError(f"{raw!r} is not KEY=VALUE") from None


ENGINE_OPTIONS: tuple[Param, ...] = (
    opt("run", "How to start the app ({port} is a free port); needs the admin role"),
    opt("probe", "A URL that answers when the app is healthy", type=_probe, repeat=True),
    opt("port", "Which port the container listens on", type=_port, default=8501),
    opt("name", "What to call the app (a DNS label)"),
    opt("image", "Which image the manifests use (repo@sha256:...)"),
    opt("sandbox", "Which runtime sandbox", choices=("gvisor",)),
    opt("no-trace", "Do not run the app; seccomp falls back to RuntimeDefault", flag=True),
    opt("env", "An environment variable for the app's runs (KEY=VALUE)", type=_env_pair, repeat=True),
)


# --- the commands ----------------------------------------------------------------------------------


@commands.command(
    "k8orize",
    "Make a workspace folder's app lean, least-privileged and observable for Kubernetes.",
    params=[arg("source", "Which folder of k8or's workspace"), *ENGINE_OPTIONS],
    roles=("deployer",),
    examples=(
        "k8orize shop --no-trace",
        "k8orize shop --run 'python app.py --port {port}' --probe http://127.0.0.1:{port}/",
    ),
    details="`--run` executes the app on the k8or host under strace, so it needs the admin role.",
)
async def k8orize_folder(ctx: CommandContext, args: Any) -> None:
    """Check the folder and the options now; run the engine after the turn has answered."""
    _check_run_allowed(ctx, args.run)
    app_dir = workspace_folder(workspace_root(ctx), args.source)
    name = dns_name(args.name or app_dir.name)
    ctx.audit_target["app"] = name
    out = output_folder(ctx, name, run_id())
    shown = app_dir.relative_to(workspace_root(ctx).resolve()).as_posix()
    request = engine_request(args, app_dir, name, out, f"workspace:{shown}")
    _validated(request)
    board = StepBoard(STARTED_FOLDER.format(name=name, source=args.source), STEPS)
    msg = await ctx.progress(board.text())
    ctx.in_background(_folder_job(ctx, msg, board, request), "k8orize")


@commands.command(
    "k8orize repo",
    "k8orize a GitHub repository, downloaded as you; `--pr` opens a pull request with the output.",
    params=[
        arg("source", "Which repository (owner/repo[@ref][:folder])", type=RepositorySource.parse),
        *ENGINE_OPTIONS,
        opt("pr", "Open a pull request carrying the output under k8or/", flag=True),
        opt("base", "Which branch the pull request targets (default: the @ref, else main)"),
    ],
    roles=("deployer",),
    connectors=("github",),
    examples=("k8orize repo octo/shop --no-trace --pr", "k8orize repo octo/mono@v2:services/web --pr"),
)
async def k8orize_repository(ctx: CommandContext, args: Any) -> None:
    """Check the person's GitHub sign-in and the options now; download and run after the turn."""
    _check_run_allowed(ctx, args.run)
    if args.base and not args.pr:
        raise UsageError(BASE_WITHOUT_PR, ctx.spec.name)
    connector, credentials = await github_for(ctx)
    source: RepositorySource = args.source
    name = dns_name(args.name or source.app_name)
    ctx.audit_target["app"] = name
    steps = (DOWNLOAD_STEP, *STEPS, *((PULL_REQUEST_STEP,) if args.pr else ()))
    board = StepBoard(STARTED_REPOSITORY.format(name=name, source=source), steps)
    msg = await ctx.progress(board.text())
    job = RepositoryJob(ctx, msg, board, args, source, name, connector, credentials)
    ctx.in_background(job.run(), "k8orize repo")


def _check_run_allowed(ctx: CommandContext, run: str | None) -> None:
    # Analysing and rendering is a deployer's job; executing someone's code on the bot host is not.
    if run and "admin" not in ctx.roles:
        held = ", ".join(sorted(ctx.roles)) or bot_messages.NO_ROLES
        raise K8orError(RUN_NEEDS_ADMIN.format(held=held))


def _validated(request: K8orizeRequest) -> None:
    try:
        request.validate()
    except K8orizeError as exc:
        raise K8orError(str(exc)) from None


# --- the workspace ---------------------------------------------------------------------------------


def workspace_root(ctx: CommandContext) -> Path:
    """k8or's workspace: the only place a chat user may point the engine at."""
    return Path(ctx.services.settings.data_dir) / WORKSPACE


def run_id() -> str:
    """A short id naming one run's output folder (and its pull request branch)."""
    return uuid.uuid4().hex[:8]


def output_folder(ctx: CommandContext, name: str, run: str) -> Path:
    """A fresh output folder for one run, so concurrent runs of the same app never collide."""
    return Path(ctx.services.settings.data_dir).resolve() / OUTPUTS / f"{name}-{run}"


def workspace_folder(root: Path, raw: str) -> Path:
    """The folder `raw` names inside the workspace (symlinks resolved); K8orError if outside or missing."""
    base = root.resolve()
    try:
        folder = (base / raw).resolve()  # an absolute `raw` replaces base, and is then refused below
    except (OSError, ValueError):
        folder = None
    if folder is not None and not folder.is_relative_to(base):
        raise K8orError(OUTSIDE_WORKSPACE.format(path=raw))
    if folder == base:
        raise K8orError(WORKSPACE_ITSELF.format(known=_known_folders(base)))
    if folder is None or not folder.is_dir():
        hint = MAYBE_REPOSITORY.format(path=raw) if RepositorySource.PATTERN.match(raw) else ""
        raise K8orError(NO_SUCH_FOLDER.format(path=raw, known=_known_folders(base)) + hint)
    return folder


def _known_folders(base: Path, limit: int = 10) -> str:
    names = (
        sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
        if base.is_dir()
        else []
    )
    if not names:
        return EMPTY_WORKSPACE
    shown = ", ".join(f"`{n}`" for n in names[:limit]) + (", …" if len(names) > limit else "")
    return KNOWN_FOLDERS.format(names=shown)


def engine_request(args: Any, app_dir: Path, name: str, out: Path, source: str) -> K8orizeRequest:
    """The engine's request from the parsed chat options; `source` is how the report names the app."""
    return request_from_options(args, app_dir=app_dir, out=out, name=name, env=dict(args.env), source=source)


# --- GitHub ----------------------------------------------------------------------------------------


async def github_for(ctx: CommandContext) -> tuple[GithubConnector, Credentials]:
    """The GitHub connector and this person's stored credentials (the gate has already asked for them)."""
    signin = ctx.services.extras.get(EXTRAS_KEY)
    connector = signin.connector("github") if signin is not None else None
    if not isinstance(connector, GithubConnector):
        raise K8orError(GITHUB_NOT_CONFIGURED)
    credentials = await signin.vault.get(ctx.person.key, "github")
    if credentials is None:  # no gate configured, or the person signed out since
        raise K8orError(str(connector.error(connector_errors.NotSignedIn)))
    return connector, credentials


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


def pull_request_files(out: Path) -> dict[str, str]:
    """The text outputs, keyed by their path in the repository (under k8or/)."""
    files: dict[str, str] = {}
    for pattern in PR_FILES:
        for path in sorted(out.glob(pattern)):
            if path.is_file():
                files[f"{PR_FOLDER}/{path.relative_to(out).as_posix()}"] = path.read_text(encoding="utf-8")
    return files


# --- progress and results --------------------------------------------------------------------------


@dataclass
class StepBoard:
    """The progress message: a headline and one line per step, rendered fresh for every edit."""

    headline: str
    steps: tuple[str, ...]
    status: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def apply(self, changes: Iterable[tuple[str, str]]) -> None:
        for step, status in changes:
            self.status[step] = status

    def fail_running(self) -> None:
        """Whatever was in flight when the run stopped is what failed."""
        self.apply((step, "failed") for step, status in list(self.status.items()) if status == "running")

    @property
    def any_failed(self) -> bool:
        return "failed" in self.status.values()

    def text(self) -> str:
        lines = [f"- {ICONS.get(self.status.get(step, ''), PENDING)} {step}" for step in self.steps]
        return "\n".join([self.headline, *lines])


# One engine run at a time per process: a run installs packages and starts the app three times,
# and two at once on a small host would slow both past their probes' timeouts.
_ENGINE_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
WAITING = "Waiting for another k8orization on this host to finish…"


async def run_engine(request: K8orizeRequest, board: StepBoard, msg: ProgressMessage) -> K8orizeResult:
    """Run the blocking engine in a worker thread, editing `msg` as its steps change."""
    slot = _ENGINE_SLOTS.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(1))
    if slot.locked():
        await msg.update(WAITING)
    async with slot:
        return await _run_engine(request, board, msg)


async def _run_engine(request: K8orizeRequest, board: StepBoard, msg: ProgressMessage) -> K8orizeResult:
    loop = asyncio.get_running_loop()
    changes: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue()

    def report(step: str, status: str) -> None:  # called on the worker thread: hop back to the loop
        loop.call_soon_threadsafe(changes.put_nowait, (step, status))

    def work() -> K8orizeResult:
        try:
            return k8orize(request, progress=report)
        finally:
            loop.call_soon_threadsafe(changes.put_nowait, None)

    engine = asyncio.ensure_future(asyncio.to_thread(work))
    await _show_changes(changes, board, msg)
    return await engine


async def _show_changes(
    changes: asyncio.Queue[tuple[str, str] | None], board: StepBoard, msg: ProgressMessage
) -> None:
    """One edit per batch of changes: whatever queued up while the last edit was in flight is coalesced."""
    finished = False
    while not finished:
        batch = [await changes.get()]
        while not changes.empty():
            batch.append(changes.get_nowait())
        finished = None in batch
        board.apply(change for change in batch if change is not None)
        await msg.update(board.text())


def picture_attachment(picture: Path) -> list[Attachment]:
    """The pipeline picture as an inline PNG (a data URL), or nothing when the engine drew none."""
    if not picture.is_file():
        return []
    data = base64.b64encode(picture.read_bytes()).decode("ascii")
    return [
        Attachment(content_type="image/png", content_url=f"data:image/png;base64,{data}", name="pipeline.png")
    ]


def result_text(ctx: CommandContext, result: K8orizeResult, *extra: str) -> str:
    folder = result.out.relative_to(Path(ctx.services.settings.data_dir).resolve()).as_posix()
    return "\n\n".join([result.summary(), OUTPUT_AT.format(folder=folder), *extra])


async def _finish(msg: ProgressMessage, board: StepBoard, name: str) -> None:
    template = FINISHED_WITH_FAILURES if board.any_failed else FINISHED
    board.headline = template.format(name=name, seconds=time.monotonic() - board.started)
    await msg.update(board.text())


@asynccontextmanager
async def reported(
    ctx: CommandContext, msg: ProgressMessage, board: StepBoard, name: str
) -> AsyncIterator[None]:
    """Background work has no pipeline around it: turn its failures into the message and one reply."""
    try:
        yield
    except (K8orizeError, K8orError, connector_errors.VerificationError) as exc:
        await _stopped(msg, board, name, str(exc))
        await ctx.reply(bot_messages.ERROR_WITH_REF.format(message=exc, cid=ctx.correlation_id))
    except Exception:
        log.exception(
            "k8orize failed", extra={"command": ctx.spec.name, "correlation_id": ctx.correlation_id}
        )
        await _stopped(msg, board, name, "an internal error")
        await ctx.reply(bot_messages.INTERNAL_ERROR.format(command=ctx.spec.name, cid=ctx.correlation_id))


async def _stopped(msg: ProgressMessage, board: StepBoard, name: str, reason: str) -> None:
    board.fail_running()
    board.headline = STOPPED.format(name=name, reason=reason)
    await msg.update(board.text())


# --- the background jobs ---------------------------------------------------------------------------


async def _folder_job(
    ctx: CommandContext, msg: ProgressMessage, board: StepBoard, request: K8orizeRequest
) -> None:
    name = request.app_name
    async with reported(ctx, msg, board, name):
        result = await run_engine(request, board, msg)
        await _finish(msg, board, name)
        await ctx.reply(Reply(result_text(ctx, result), picture_attachment(result.picture)))


@dataclass
class RepositoryJob:
    """Download as the person, unpack safely, k8orize, and (with --pr) open a pull request as the person."""

    ctx: CommandContext
    msg: ProgressMessage
    board: StepBoard
    args: Any
    source: RepositorySource
    name: str
    connector: GithubConnector
    credentials: Credentials
    run_id: str = field(default_factory=run_id)

    async def run(self) -> None:
        async with reported(self.ctx, self.msg, self.board, self.name):
            result = await self._k8orize()
            await _finish(self.msg, self.board, self.name)
            extra = [await self._pull_request(result)] if self.args.pr else []
            await self.ctx.reply(
                Reply(result_text(self.ctx, result, *extra), picture_attachment(result.picture))
            )

    async def _k8orize(self) -> K8orizeResult:
        root = workspace_root(self.ctx)
        root.mkdir(parents=True, exist_ok=True)
        # The download lives only as long as the run: nothing of it is left behind, success or not.
        scratch = Path(tempfile.mkdtemp(prefix=".github-", dir=root))
        try:
            app_dir = await self._download(scratch)
            out = output_folder(self.ctx, self.name, self.run_id)
            request = engine_request(self.args, app_dir, self.name, out, f"github:{self.source}")
            return await run_engine(request, self.board, self.msg)
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)

    async def _download(self, scratch: Path) -> Path:
        await self._step(DOWNLOAD_STEP, "running")
        archive = await self.connector.download_repository(
            self.credentials, self.source.repository, self.source.ref
        )
        top = await asyncio.to_thread(unpack_repository, archive, scratch, self.source.repository)
        folder = app_folder(top, self.source)
        await self._step(DOWNLOAD_STEP, "ok")
        return folder

    async def _pull_request(self, result: K8orizeResult) -> str:
        """The PR line for the reply. A failure here does not undo the k8orization: reported, not raised."""
        await self._step(PULL_REQUEST_STEP, "running")
        person = self.ctx.person.name or self.ctx.person.key
        try:
            url = await self.connector.open_pull_request(
                self.credentials,
                self.source.repository,
                base=self.args.base or self.source.ref or DEFAULT_BASE,
                branch=f"k8or/k8orize-{self.run_id}",
                title=PR_TITLE.format(name=self.name),
                body=f"{result.summary()}\n\n{PR_NOTE.format(person=person, source=self.source)}",
                files=await asyncio.to_thread(pull_request_files, result.out),
                message=PR_MESSAGE.format(name=self.name),
            )
        except connector_errors.VerificationError as exc:
            await self._step(PULL_REQUEST_STEP, "failed")
            return PR_NOT_OPENED.format(reason=exc)
        await self._step(PULL_REQUEST_STEP, "ok")
        return PR_OPENED.format(url=url)

    async def _step(self, step: str, status: str) -> None:
        self.board.apply([(step, status)])
        await self.msg.update(self.board.text())

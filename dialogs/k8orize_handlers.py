"""What the k8orize commands do (`dialogs.k8orize` declares them): choose the source, answer with ONE
progress message, run the engine as a job (`jobs`), and reply with the summary, the pipeline picture
and, on request, a pull request.

Imported when one of these commands first runs, so k8or starts without the libraries it uses.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from botbuilder.schema import Attachment

from actions.errors import ServiceRefused, translated, user_error
from actions.integration_reach import Actor, Reach
from actions.integrations import picture_to_board
from actions.k8orize import (
    DEFAULT_BASE,
    DOWNLOAD_STEP,
    PULL_REQUEST_STEP,
    GithubAccess,
    PullRequest,
    PushTarget,
    RepositorySource,
    chat_base_image,
    dockerhub_push_target,
    downloaded,
    github_access,
    open_pull_request,
    require_sandbox,
    run_engine,
)
from bot import messages as bot_messages
from bot.commands.grammar import Arguments
from bot.context import CommandContext, Reply
from bot.errors import K8orError, UsageError
from bot.jobs import JobKinds, JobRun
from clock import units
from dialogs import cards
from dialogs import k8orize_messages as words
from dialogs.k8orize_board import LiveBoard, StepBoard
from k8orize.engine import K8orizeResult
from k8orize.request import K8orizeRequest, dns_name, request_from_options
from k8orize.steps import STEPS

log = logging.getLogger(__name__)
jobs = JobKinds()  # k8orize runs, after the turn (bot.jobs)

WORKSPACE = "workspace"  # under settings.data_dir: the only folders chat may point the engine at
OUTPUTS = "k8orize"  # under settings.data_dir: one folder per run, <name>-<short id>

# --- the commands ----------------------------------------------------------------------------------


async def k8orize_folder(ctx: CommandContext, args: Arguments) -> None:
    """Check the folder and the options now; run the engine after the turn has answered."""
    await _check_run_allowed(ctx, args)
    app_dir = workspace_folder(workspace_root(ctx), args.source)
    name = dns_name(args.name or app_dir.name)
    ctx.audit_target["app"] = name
    await push_target(ctx, args, name)  # refused now, in the turn, when it cannot work
    out = output_folder(ctx, name, run_id())
    shown = app_dir.relative_to(workspace_root(ctx).resolve()).as_posix()
    request = engine_request(ctx, args, app_dir, name, out, f"workspace:{shown}")
    async with translated():
        request.validate()
    headline = words.STARTED_FOLDER.format(name=name, source=args.source)
    msg = await ctx.progress(StepBoard(headline, STEPS).text())
    await ctx.start_job(
        folder_job,
        msg,
        options=job_options(args),
        name=name,
        run=out.name,
        shown=shown,
        headline=headline,
        steps=STEPS,
    )


async def k8orize_repository(ctx: CommandContext, args: Arguments) -> None:
    """Check the person's GitHub sign-in and the options now; download and run after the turn."""
    await _check_run_allowed(ctx, args)
    if args.base and not args.pr:
        raise UsageError(words.BASE_WITHOUT_PR, ctx.spec.name)
    await github_access(ctx.services, ctx.person.key)  # refused now, in the turn, when it cannot work
    source: RepositorySource = args.source
    name = dns_name(args.name or source.app_name)
    ctx.audit_target["app"] = name
    await push_target(ctx, args, name)
    steps = (DOWNLOAD_STEP, *STEPS, *((PULL_REQUEST_STEP,) if args.pr else ()))
    headline = words.STARTED_REPOSITORY.format(name=name, source=source)
    msg = await ctx.progress(StepBoard(headline, steps).text())
    # The run's name is chosen now, so that a resumed job commits to the same pull request branch.
    await ctx.start_job(
        repository_job,
        msg,
        options=job_options(args),
        name=name,
        headline=headline,
        steps=steps,
        run=run_id(),
    )


async def _check_run_allowed(ctx: CommandContext, args: Arguments) -> None:
    # Analysing and rendering is a deployer's job; executing someone's code on the bot host is not.
    if args.run and "admin" not in ctx.roles:
        held = ", ".join(sorted(ctx.roles)) or bot_messages.NO_ROLES
        raise K8orError(words.RUN_NEEDS_ADMIN.format(held=held))
    if args.run and not args.no_trace:
        await require_sandbox()  # the app's code runs only in the sandbox: refused now when there is none


# --- the workspace ---------------------------------------------------------------------------------


def workspace_root(ctx: CommandContext) -> Path:
    """k8or's workspace: the only place a chat user may point the engine at."""
    return Path(ctx.services.settings.data_dir) / WORKSPACE


def run_id() -> str:
    """A short id naming one run's output folder (and its pull request branch)."""
    return uuid.uuid4().hex[:8]


def output_folder(ctx: CommandContext, name: str, run: str) -> Path:
    """A fresh output folder for one run, so concurrent runs of the same app never collide."""
    return output_folder_named(ctx, f"{name}-{run}")


def output_folder_named(ctx: CommandContext, folder: str) -> Path:
    return Path(ctx.services.settings.data_dir).resolve() / OUTPUTS / folder


def workspace_folder(root: Path, raw: str) -> Path:
    """The folder `raw` names inside the workspace (symlinks resolved); K8orError if outside or missing."""
    base = root.resolve()
    try:
        folder = (base / raw).resolve()  # an absolute `raw` replaces base, and is then refused below
    except (OSError, ValueError):
        folder = None
    if folder is not None and not folder.is_relative_to(base):
        raise K8orError(words.OUTSIDE_WORKSPACE.format(path=raw))
    if folder == base:
        raise K8orError(words.WORKSPACE_ITSELF.format(known=_known_folders(base)))
    if folder is None or not folder.is_dir():
        hint = words.MAYBE_REPOSITORY.format(path=raw) if RepositorySource.PATTERN.match(raw) else ""
        raise K8orError(words.NO_SUCH_FOLDER.format(path=raw, known=_known_folders(base)) + hint)
    return folder


def _known_folders(base: Path, limit: int = 10) -> str:
    names = (
        sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
        if base.is_dir()
        else []
    )
    if not names:
        return words.EMPTY_WORKSPACE
    shown = ", ".join(f"`{n}`" for n in names[:limit]) + (", …" if len(names) > limit else "")
    return words.KNOWN_FOLDERS.format(names=shown)


async def push_target(ctx: CommandContext, args: Any, name: str) -> PushTarget | None:
    """With --push: the person's Docker Hub repository for the app and their credentials."""
    return await dockerhub_push_target(ctx.services, ctx.person.key, name) if args.push else None


def engine_request(
    ctx: CommandContext,
    args: Any,
    app_dir: Path,
    name: str,
    out: Path,
    source: str,
    push: PushTarget | None = None,
) -> K8orizeRequest:
    """The engine's request from the parsed chat options and this k8or's settings (the base image its
    builds are FROM); `source` is how the report names the app."""
    return request_from_options(
        args,
        app_dir=app_dir,
        out=out,
        name=name,
        env=dict(args.env),
        source=source,
        base_image=chat_base_image(ctx.services),
        push=push.destination if push else None,
        push_credentials=push.credentials if push else None,
    )


# --- after the turn --------------------------------------------------------------------------------


# --- after the turn: jobs (bot.jobs); a resumed run starts again from the beginning, same message ---


def job_options(args: Arguments) -> dict[str, Any]:
    """The parsed options as JSON values, for the job record."""
    return {
        key: str(value) if isinstance(value, RepositorySource) else value for key, value in vars(args).items()
    }


def job_arguments(options: dict[str, Any], *, repository: bool = False) -> Arguments:
    """The options back as the grammar gave them (env as pairs, a repository source parsed)."""
    values = {**options, "env": [tuple(pair) for pair in options.get("env") or ()]}
    if repository:
        values["source"] = RepositorySource.parse(options["source"])
    return Arguments(values)


def _live_board(run: JobRun) -> LiveBoard:
    """A fresh board on the job's message: a resumed run shows every step pending again."""
    board = StepBoard(run.arguments["headline"], tuple(run.arguments["steps"]))
    return LiveBoard(board, run.progress)


@jobs.kind("k8orize.folder")
async def folder_job(run: JobRun) -> None:
    ctx, name = run.ctx, run.arguments["name"]
    live = _live_board(run)
    args = job_arguments(run.arguments["options"])
    async with reported(ctx, live, name):
        app_dir = workspace_folder(workspace_root(ctx), args.source)
        out = (
            output_folder(ctx, name, run_id())
            if run.resumed
            else output_folder_named(ctx, run.arguments["run"])
        )
        target = await push_target(ctx, args, name)
        request = engine_request(ctx, args, app_dir, name, out, f"workspace:{run.arguments['shown']}", target)
        result = await run_engine(ctx.services, request, live.show, live.say)
        await _finish(live, name)
        reply = result_reply(ctx, result, *await _on_board(ctx, args, name, result))
        await run.once("result", lambda: ctx.reply(reply))  # a resumed run answers once in all


@jobs.kind("k8orize.repository")
async def repository_job(run: JobRun) -> None:
    """Download as the person, unpack safely, k8orize, and (with --pr) open a pull request as the person."""
    ctx, name = run.ctx, run.arguments["name"]
    live = _live_board(run)
    args = job_arguments(run.arguments["options"], repository=True)
    source: RepositorySource = args.source
    run_name = run.arguments.get("run") or run_id()  # jobs queued before the name was an argument
    async with reported(ctx, live, name):
        access = await github_access(ctx.services, ctx.person.key)
        target = await push_target(ctx, args, name)
        async with downloaded(access, source, workspace_root(ctx), live.show) as app_dir:
            out = output_folder(ctx, name, run_id() if run.resumed else run_name)  # never a half-written one
            request = engine_request(ctx, args, app_dir, name, out, f"github:{source}", target)
            result = await run_engine(ctx.services, request, live.show, live.say)
        await _finish(live, name)
        extra = [await _pull_request(ctx, live, args, access, result, run_name)] if args.pr else []
        reply = result_reply(ctx, result, *extra, *await _on_board(ctx, args, name, result))
        await run.once("result", lambda: ctx.reply(reply))


async def _pull_request(
    ctx: CommandContext, live: LiveBoard, args: Any, access: GithubAccess, result: K8orizeResult, run: str
) -> str:
    """The PR line for the reply. A failure here does not undo the k8orization: reported, not raised."""
    source: RepositorySource = args.source
    name = result.report["app"]["name"]
    pr = PullRequest(
        base=args.base or source.ref or DEFAULT_BASE,
        branch=f"k8or/k8orize-{run}",
        title=words.PR_TITLE.format(name=name),
        note=words.PR_NOTE.format(person=ctx.person.name or ctx.person.key, source=source),
        message=words.PR_MESSAGE.format(name=name),
    )
    try:
        url = await open_pull_request(access, source, result, pr, live.show)
    except ServiceRefused as refused:
        return words.PR_NOT_OPENED.format(reason=refused)
    return words.PR_OPENED.format(url=url)


def picture_attachment(picture: Path) -> list[Attachment]:
    """The pipeline picture as an inline PNG (a data URL), or nothing when the engine drew none."""
    if not picture.is_file():
        return []
    data = base64.b64encode(picture.read_bytes()).decode("ascii")
    return [
        Attachment(content_type="image/png", content_url=f"data:image/png;base64,{data}", name="pipeline.png")
    ]


async def _on_board(ctx: CommandContext, args: Any, name: str, result: K8orizeResult) -> list[str]:
    """With --miro-board: the pipeline picture on that board, as the person; the line saying so."""
    board = getattr(args, "miro_board", None)  # jobs queued before the option existed have none
    if not board or not result.picture.is_file():
        return []
    reach = Reach(ctx.services, Actor(ctx.person.key, ctx.person.name or ctx.person.key))
    title = words.BOARD_TITLE.format(name=name)
    return [await picture_to_board(reach, board, title, result.picture.read_bytes())]


def result_reply(ctx: CommandContext, result: K8orizeResult, *extra: str) -> Reply:
    """The summary as text, as a card where the channel shows cards, and the pipeline picture."""
    text = result_text(ctx, result, *extra)
    card = [] if ctx.turn.activity.channel_id == cards.CONSOLE else [cards.attachment(cards.text_card(text))]
    return Reply(text, [*picture_attachment(result.picture), *card])


def result_text(ctx: CommandContext, result: K8orizeResult, *extra: str) -> str:
    folder = result.out.relative_to(Path(ctx.services.settings.data_dir).resolve()).as_posix()
    return "\n\n".join([result.summary(), words.OUTPUT_AT.format(folder=folder), *extra])


async def _finish(live: LiveBoard, name: str) -> None:
    template = words.FINISHED_WITH_FAILURES if live.board.any_failed else words.FINISHED
    await live.headline(template.format(name=name, duration=units.duration(live.board.seconds)))


@asynccontextmanager
async def reported(ctx: CommandContext, live: LiveBoard, name: str) -> AsyncIterator[None]:
    """Background work has no pipeline around it: turn its failures into the message and one reply.
    Any library error (engine, connector, cluster) reaches the person as its own message."""
    try:
        yield
    except Exception as exc:
        error = user_error(exc)
        if error is None:
            log.exception(
                "k8orize failed", extra={"command": ctx.spec.name, "correlation_id": ctx.correlation_id}
            )
        reason = str(error) if error is not None else "an internal error"
        await live.headline(words.STOPPED.format(name=name, reason=reason), fail_running=True)
        await ctx.reply(
            bot_messages.ERROR_WITH_REF.format(message=error, cid=ctx.correlation_id)
            if error is not None
            else bot_messages.INTERNAL_ERROR.format(command=ctx.spec.name, cid=ctx.correlation_id)
        )

"""What the cluster commands do (`dialogs.cluster` declares them): each calls the `cluster` library
and renders its result; rollouts followed, migrations and deletions run as jobs (`jobs`).

Imported when one of these commands first runs, so k8or starts without the libraries it uses.
"""

from __future__ import annotations

from actions import cluster as actions
from actions.blocking import call
from bot import messages
from bot.approvals import TargetGone
from bot.commands.grammar import Arguments
from bot.context import CommandContext, Reply
from bot.errors import K8orError, UsageError
from bot.jobs import JobKinds, JobRun
from cluster.delete import DeletionStep
from cluster.migrate import migrate as migrate_app
from cluster.preflight import preflight as run_preflight
from cluster.rollback import list_revisions
from cluster.rollback import rollback as rollback_app
from cluster.rollout import COMPLETE, RolloutProgress
from cluster.source import SourceRef
from cluster.status import app_status, namespace_status
from cluster.target import EKS_PREFIX, ClusterTarget
from cluster.volumes import StorageClassSpec, create_claim, create_storage_class
from dialogs import cards
from dialogs import cluster_render as render
from dialogs import integrations_handlers as integrations
from dialogs.cluster import SOURCE_PAIR
from dialogs.cluster_targets import ClusterDirectory, directory
from dialogs.message_fit import fit_reply
from dialogs.release_handlers import shipped_tickets
from policy.entries import audit_entry

jobs = JobKinds()  # what outlives a turn: rollouts followed, migrations, deletions (bot.jobs)


@jobs.kind("cluster.follow")
async def follow_job(run: JobRun) -> None:
    """Edit one message with each rollout snapshot until it completes, fails or times out.
    Resumed on another replica, it simply follows the rollout again from where it is now."""
    ctx, msg, app, action = run.ctx, run.progress, run.arguments["app"], run.arguments["action"]
    last: RolloutProgress | K8orError | None
    try:
        target = await directory(ctx).target(ctx)
    except K8orError as exc:
        await msg.update(f"✗ {action} of `{app}`: {exc}")
        return

    timeline: list[RolloutProgress] = []

    async def show(snapshot: RolloutProgress) -> None:
        timeline.append(snapshot)
        await msg.update(render.progress(snapshot, action))

    try:
        last = await actions.follow_rollout(target, app, run.arguments["timeout"], show)
    except K8orError as exc:
        last = exc
        await msg.update(f"✗ {action} of `{app}`: {exc}")
    # Once per job: a run resumed after the entry was written (its replica died just after) adds none.
    await run.once("audit", lambda: _audit_outcome(ctx, target, app, action, last))
    await run.once("integrations", lambda: integrations.after_follow(run, target, last, timeline))


async def _audit_outcome(
    ctx: CommandContext,
    target: ClusterTarget,
    app: str,
    action: str,
    last: RolloutProgress | K8orError | None,
) -> None:
    """The turn audited the request; the rollout's end is audited too, under the same correlation id."""
    if ctx.services.audit is None:
        return
    ok = isinstance(last, RolloutProgress) and last.state == COMPLETE
    detail = last.line if isinstance(last, RolloutProgress) else str(last or "no progress seen")
    entry = audit_entry(
        actor_key=ctx.person.key,
        actor_name=ctx.person.name,
        channel=ctx.person.channel,
        command=f"{ctx.spec.name} ({action.lower()} result)",
        line=ctx.line,
        cluster=target.name,
        namespace=target.namespace,
        target=app,
        outcome="ok" if ok else "failed",
        detail=detail,
        correlation_id=ctx.correlation_id,
    )
    await ctx.services.audit.append(entry)


async def _confirmed_target(ctx: CommandContext) -> ClusterTarget:
    """The target a destructive command acts on: for a confirmed action, the recorded cluster and
    namespace (ctx carries them), refused when that cluster is no longer among the known ones."""
    clusters = directory(ctx)
    name = ctx.cluster
    if ctx.confirmed and name and not name.startswith(EKS_PREFIX) and name not in await clusters.contexts():
        action = f"`{ctx.line}`" + (f" in `{ctx.namespace}`" if ctx.namespace else "")
        raise TargetGone(messages.CONFIRM_TARGET_GONE.format(action=action, cluster=name))
    return await clusters.target(ctx)


def _digest_hook(ctx: CommandContext, clusters: ClusterDirectory) -> actions.DigestHook | None:
    """The person's Docker Hub digest lookup, when this k8or has one."""
    hook = clusters.resolve_digest
    if hook is None:
        return None

    async def resolve(image: str) -> str | None:
        return await hook(ctx, image)

    return resolve


async def cluster_use(ctx: CommandContext, args: Arguments) -> str:
    target = await directory(ctx).target(ctx, args.cluster, namespace=None)
    ctx.conversation["cluster"], ctx.conversation["namespace"] = target.name, target.namespace
    return f"Using cluster `{target.name}`, namespace `{target.namespace}`."


async def ns(ctx: CommandContext, args: Arguments) -> str:
    ctx.conversation["namespace"] = args.namespace
    return f"Namespace set to `{args.namespace}`" + (f" on `{ctx.cluster}`." if ctx.cluster else ".")


async def preflight(ctx: CommandContext, _args: Arguments) -> str:
    clusters = directory(ctx)
    target = await clusters.target(ctx)
    session = None
    if target.eks is None and clusters.aws_session is not None:
        try:
            session = await clusters.session_for(ctx)
        except K8orError:
            session = None  # a kubeconfig cluster does not need AWS; the check is simply left out
    results = await call(run_preflight, target, session, clusters.sts_endpoint_url)
    return render.checks(target.name, target.namespace, results)


async def storage_create(ctx: CommandContext, args: Arguments) -> str:
    name = getattr(args, "class")
    ctx.audit_target["app"] = name
    target = await directory(ctx).target(ctx)
    spec = StorageClassSpec(
        name, args.provisioner, {"type": args.type}, binding_mode=args.binding, default=args.default
    )
    await call(create_storage_class, target, spec)
    return f"✓ StorageClass `{name}` created ({args.provisioner}, type {args.type}, {args.binding})."


async def volume_create(ctx: CommandContext, args: Arguments) -> str:
    ctx.audit_target["app"] = args.claim
    target = await directory(ctx).target(ctx)
    # Wait for Bound inside the turn, leaving it time to answer before the turn timeout cuts it off.
    wait = max(5.0, ctx.services.settings.turn_timeout - 15.0)
    status = await call(create_claim, target, args.claim, args.size, getattr(args, "class"), timeout=wait)
    return render.claim(status)


async def deploy(ctx: CommandContext, args: Arguments) -> None:
    ctx.audit_target["app"] = args.app
    if (args.commit is None) != (args.repo is None):
        raise UsageError(SOURCE_PAIR, "deploy")
    source = SourceRef(args.repo, args.commit) if args.commit else None
    clusters = directory(ctx)
    target = await clusters.target(ctx)
    notes = await integrations.before_deploy(ctx, target, args.app)  # refused during a freeze
    applied = await actions.deploy(
        target, args.app, args.image, args.replicas, list(args.volume), _digest_hook(ctx, clusters), source
    )
    told = await integrations.rollout_started(
        ctx, target, args.app, "Rollout", source, notes, args.miro_board
    )
    msg = await ctx.progress(
        f"⏳ Deploying `{args.app}` (`{applied.image}`) to `{target.name}` / `{target.namespace}`…"
    )
    timeout = clusters.rollout_timeout
    await ctx.start_job(follow_job, msg, app=args.app, action="Rollout", timeout=timeout, integrations=told)


async def status(ctx: CommandContext, args: Arguments) -> str | Reply:
    target = await directory(ctx).target(ctx)
    if args.tickets:
        return await shipped_tickets(ctx, target)
    channel = ctx.turn.activity.channel_id
    if args.app:
        ctx.audit_target["app"] = args.app
        return cards.status_reply(channel, await call(app_status, target, args.app))
    return cards.namespace_reply(channel, await call(namespace_status, target))


async def rollback(ctx: CommandContext, args: Arguments) -> str | Reply | None:
    ctx.audit_target["app"] = args.app
    clusters = directory(ctx)
    target = await clusters.target(ctx)
    if args.to_revision is None:
        items = await call(list_revisions, target, args.app)
        return cards.revisions_reply(ctx.turn.activity.channel_id, args.app, items)
    result = await call(rollback_app, target, args.app, args.to_revision)
    if result.skipped:
        return result.line
    told = await integrations.rollout_started(ctx, target, args.app, "Rollback", None)
    msg = await ctx.progress(f"⏳ {result.line}")
    timeout = clusters.rollout_timeout
    await ctx.start_job(follow_job, msg, app=args.app, action="Rollback", timeout=timeout, integrations=told)
    return None


async def migrate(ctx: CommandContext, args: Arguments) -> None:
    ctx.audit_target["app"] = args.app
    source, dest = getattr(args, "from"), args.to
    await _confirmed_target(ctx)  # refused in the turn when the recorded cluster is gone
    msg = await ctx.progress(f"⏳ Copying `{source}` of `{args.app}` to claim `{args.claim}` at `{dest}`…")
    await ctx.start_job(migrate_job, msg, app=args.app, claim=args.claim, source=source, dest=dest)


@jobs.kind("cluster.migrate")
async def migrate_job(run: JobRun) -> None:
    """Copy and verify. Resumed, it copies again: `cp -a` onto the same claim ends in the same files,
    and the byte totals are measured afresh."""
    a = run.arguments
    try:
        target = await directory(run.ctx).target(run.ctx)
        result = await call(migrate_app, target, a["app"], a["claim"], a["source"], a["dest"])
        await run.progress.update(render.migration(result))
    except K8orError as exc:
        await run.progress.update(f"✗ Migration of `{a['app']}`: {exc}")


async def delete(ctx: CommandContext, args: Arguments) -> None:
    ctx.audit_target["app"] = args.app
    target = await _confirmed_target(ctx)
    msg = await ctx.progress(f"⏳ Deleting `{args.app}` from `{target.name}` / `{target.namespace}`…")
    await ctx.start_job(delete_job, msg, app=args.app)


@jobs.kind("cluster.delete")
async def delete_job(run: JobRun) -> None:
    """Delete with a step per kind gone. Resumed, it checks first: an app already gone is deleted."""
    app, msg = run.arguments["app"], run.progress
    done: list[str] = []

    async def show(step: DeletionStep) -> None:
        done.append(step.line)
        await msg.update("\n".join([f"⏳ Deleting `{app}`:"] + [f"- {line}" for line in done]))

    try:
        target = await directory(run.ctx).target(run.ctx)
        if not run.resumed or await actions.app_exists(target, app):
            await actions.delete_app(target, app, show)
        await msg.update("\n".join([f"✓ Deleted `{app}`:"] + [f"- {line}" for line in done]))
    except K8orError as exc:
        await msg.update(f"✗ Deleting `{app}`: {exc}")


async def audit(ctx: CommandContext, args: Arguments) -> str | Reply:
    log = ctx.services.audit
    if log is None or not hasattr(log, "latest"):
        return "No audit log is configured."
    text = render.audit(await log.latest(min(args.count or 20, 200)))
    return fit_reply(text, ctx.turn.activity.channel_id, "audit.txt", hint="ask for fewer, e.g. `audit 20`")

"""Kubernetes from chat: target, preflight, storage, deploy with live progress, status, rollback,
migration, delete and audit. Every command only calls the `cluster` library and renders its result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from actions import cluster as actions
from actions.cluster import call
from bot import messages
from bot.approvals import TargetGone
from bot.commands.grammar import Arguments, arg, non_negative_int, opt, positive_int
from bot.commands.registry import CommandSet
from bot.context import CommandContext, Reply
from bot.errors import K8orError, UsageError
from bot.jobs import JobKinds, JobRun
from bot.services import Services
from cluster import names
from cluster.delete import DeletionStep
from cluster.errors import ClusterError
from cluster.incluster import IN_CLUSTER
from cluster.migrate import migrate as migrate_app
from cluster.preflight import preflight as run_preflight
from cluster.render import image_ref
from cluster.rollback import list_revisions
from cluster.rollback import rollback as rollback_app
from cluster.rollout import COMPLETE, RolloutProgress
from cluster.source import SourceRef, commit_id, repository_name
from cluster.status import app_status, namespace_status
from cluster.target import EKS_PREFIX, ClusterTarget, list_contexts
from cluster.volumes import StorageClassSpec, create_claim, create_storage_class
from dialogs import cards, integrations
from dialogs import cluster_render as render
from dialogs.cluster_targets import CLUSTERS, NO_CLUSTER, ClusterDirectory, directory
from dialogs.message_fit import fit_reply
from dialogs.release import shipped_tickets
from policy.entries import audit_entry
from policy.roles import DEFAULT_COMMAND_ROLES

commands = CommandSet()
jobs = JobKinds()  # what outlives a turn: rollouts followed, migrations, deletions (bot.jobs)


def _checked(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """A grammar converter from a cluster name check: bad names are refused while parsing."""

    def convert(raw: str) -> Any:
        try:
            return check(raw)
        except ClusterError as exc:
            raise ValueError(str(exc)) from None

    convert.__name__ = getattr(check, "__name__", "value")
    return convert


APP = _checked(names.app_name)
LABEL_LONGEST = 63  # DNS-1123 labels: refused by length before anything else
CLAIM = _checked(lambda v: names.dns_subdomain(v, "claim name"))
CLASS = _checked(lambda v: names.dns_subdomain(v, "storage class name"))
NAMESPACE = _checked(lambda v: names.dns_label(v, "namespace"))
IMAGE = _checked(image_ref)
SIZE = _checked(names.size)
PATH = _checked(names.mount_path)
VOLUME = _checked(names.VolumeSpec.parse)
COMMIT = _checked(commit_id)
REPO = _checked(repository_name)
SOURCE_PAIR = "`--commit` and `--repo` go together: the commit is looked up in that repository."


def _known_contexts(services: Services | None) -> list[str]:
    """The clusters `cluster use` can offer: the cluster directory's (the pod's own, kubeconfig contexts);
    EKS clusters are named by the person."""
    clusters = services.capabilities.get(CLUSTERS) if services is not None else None
    if clusters is None:
        return []
    own = [IN_CLUSTER] if clusters.in_cluster else []
    paths = [p for p in clusters.kubeconfig.split(":") if p]
    return own + [name for path in paths for name in list_contexts(path)]


def _cluster_chosen(ctx: CommandContext) -> str | None:
    """Checked before any question or confirmation: a command that needs a cluster has one."""
    return None if ctx.cluster else NO_CLUSTER


NEEDS_CLUSTER = (_cluster_chosen,)


def _roles(command: str) -> tuple[str, ...]:
    """The minimum role; RBAC policies hand out the roles below a person's role too."""
    return (DEFAULT_COMMAND_ROLES[command],)


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


@commands.command(
    "cluster use",
    "Choose the cluster for this conversation (a kubeconfig context or eks:NAME).",
    params=[arg("cluster", "Which cluster (a context, or eks:NAME)", suggest=_known_contexts)],
    roles=_roles("cluster use"),
    examples=("cluster use prod", "cluster use eks:shop"),
)
async def cluster_use(ctx: CommandContext, args: Arguments) -> str:
    target = await directory(ctx).target(ctx, args.cluster, namespace=None)
    ctx.conversation["cluster"], ctx.conversation["namespace"] = target.name, target.namespace
    return f"Using cluster `{target.name}`, namespace `{target.namespace}`."


@commands.command(
    "ns",
    "Choose the namespace for this conversation.",
    params=[arg("namespace", "Which namespace", type=NAMESPACE)],
    roles=_roles("ns"),
    examples=("ns shop",),
)
async def ns(ctx: CommandContext, args: Arguments) -> str:
    ctx.conversation["namespace"] = args.namespace
    return f"Namespace set to `{args.namespace}`" + (f" on `{ctx.cluster}`." if ctx.cluster else ".")


@commands.command(
    "preflight",
    "Check AWS identity, cluster, namespace, nodes and storage.",
    roles=_roles("preflight"),
    requires=NEEDS_CLUSTER,
)
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


@commands.command(
    "storage create",
    "Create a StorageClass.",
    params=[
        arg("class", "Which storage class name", type=CLASS),
        opt("provisioner", "Which provisioner", default="ebs.csi.aws.com"),
        opt("type", "The volume type parameter", default="gp3"),
        opt(
            "binding", "When volumes bind", choices=("Immediate", "WaitForFirstConsumer"), default="Immediate"
        ),
        opt("default", "Make it the default class", flag=True),
    ],
    roles=_roles("storage create"),
    requires=NEEDS_CLUSTER,
    examples=("storage create gp3", "storage create fast --type io2 --binding WaitForFirstConsumer"),
)
async def storage_create(ctx: CommandContext, args: Arguments) -> str:
    name = getattr(args, "class")
    ctx.audit_target["app"] = name
    target = await directory(ctx).target(ctx)
    spec = StorageClassSpec(
        name, args.provisioner, {"type": args.type}, binding_mode=args.binding, default=args.default
    )
    await call(create_storage_class, target, spec)
    return f"✓ StorageClass `{name}` created ({args.provisioner}, type {args.type}, {args.binding})."


@commands.command(
    "volume create",
    "Create a PersistentVolumeClaim and wait until it is Bound.",
    params=[
        arg("claim", "Which claim name", type=CLAIM),
        opt("size", "How big (e.g. 10Gi)", type=SIZE, required=True),
        opt("class", "Which storage class", type=CLASS),
    ],
    roles=_roles("volume create"),
    requires=NEEDS_CLUSTER,
    examples=("volume create data --size 10Gi --class gp3",),
)
async def volume_create(ctx: CommandContext, args: Arguments) -> str:
    ctx.audit_target["app"] = args.claim
    target = await directory(ctx).target(ctx)
    # Wait for Bound inside the turn, leaving it time to answer before the turn timeout cuts it off.
    wait = max(5.0, ctx.services.settings.turn_timeout - 15.0)
    status = await call(create_claim, target, args.claim, args.size, getattr(args, "class"), timeout=wait)
    return render.claim(status)


@commands.command(
    "deploy",
    "Deploy an image as a hardened Deployment and follow the rollout.",
    params=[
        arg("app", "Which app", type=APP, max_length=LABEL_LONGEST),
        arg("image", "Which image (repo[:tag])", type=IMAGE),
        opt("replicas", "How many replicas", type=non_negative_int, default=1),
        opt("volume", "A claim:/path to mount", type=VOLUME, repeat=True),
        opt("commit", "Which Git commit the image was built from (7-40 hex)", type=COMMIT),
        opt("repo", "Which GitHub repository that commit is in (owner/name)", type=REPO),
        opt("miro-board", "Which Miro board gets the rollout's timeline", type=integrations.TEXT),
    ],
    roles=_roles("deploy"),
    requires=NEEDS_CLUSTER,
    examples=(
        "deploy web nginx:1.27 --replicas 2 --volume data:/mnt --volume usr-data:/usr",
        "deploy web acme/web:1.4 --commit a1b2c3d --repo acme/web",
    ),
)
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


@commands.command(
    "status",
    "Show one app, or every deployment in the namespace.",
    params=[
        arg("app", "Which app", type=APP, required=False, max_length=LABEL_LONGEST),
        opt("tickets", "List the issue keys each app's running revision shipped", flag=True),
    ],
    roles=_roles("status"),
    requires=NEEDS_CLUSTER,
    examples=("status", "status web", "status --tickets"),
)
async def status(ctx: CommandContext, args: Arguments) -> str | Reply:
    target = await directory(ctx).target(ctx)
    if args.tickets:
        return await shipped_tickets(ctx, target)
    channel = ctx.turn.activity.channel_id
    if args.app:
        ctx.audit_target["app"] = args.app
        return cards.status_reply(channel, await call(app_status, target, args.app))
    return cards.namespace_reply(channel, await call(namespace_status, target))


@commands.command(
    "rollback",
    "List an app's revisions, or roll back to one (like kubectl rollout undo).",
    params=[
        arg("app", "Which app", type=APP, max_length=LABEL_LONGEST),
        opt("to-revision", "Which revision", type=positive_int),
    ],
    roles=_roles("rollback"),
    requires=NEEDS_CLUSTER,
    examples=("rollback web", "rollback web --to-revision 3"),
)
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


@commands.command(
    "migrate",
    "Copy an app's directory onto a claim in a Job, and verify the byte totals (du).",
    params=[
        arg("app", "Which app", type=APP, max_length=LABEL_LONGEST),
        opt("from", "Which directory to copy", type=PATH, default="/usr"),
        opt("to", "Where the claim is mounted", type=PATH, default="/mnt"),
        opt("claim", "Which claim receives the copy", type=CLAIM, required=True),
    ],
    roles=_roles("migrate"),
    requires=NEEDS_CLUSTER,
    destructive=True,
    examples=("migrate web --from /usr --to /mnt --claim data",),
)
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


@commands.command(
    "delete",
    "Delete an app: Deployment, ReplicaSets and Pods (foreground cascade).",
    params=[arg("app", "Which app", type=APP, max_length=LABEL_LONGEST)],
    roles=_roles("delete"),
    requires=NEEDS_CLUSTER,
    destructive=True,
    examples=("delete web",),
)
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


@commands.command(
    "audit",
    "Show the latest audit entries (admins).",
    params=[arg("count", "How many entries", type=positive_int, required=False, default=20)],
    roles=_roles("audit"),
    examples=("audit", "audit 50"),
)
async def audit(ctx: CommandContext, args: Arguments) -> str | Reply:
    log = ctx.services.audit
    if log is None or not hasattr(log, "latest"):
        return "No audit log is configured."
    text = render.audit(await log.latest(min(args.count or 20, 200)))
    return fit_reply(text, ctx.turn.activity.channel_id, "audit.txt", hint="ask for fewer, e.g. `audit 20`")


def command_names() -> Iterable[str]:
    return [spec.name for spec in commands]

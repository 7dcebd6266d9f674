"""The commands every k8or has: help, whoami, version."""

from __future__ import annotations

from bot.commands.grammar import arg
from bot.commands.registry import ROLES, CommandSet, CommandSpec
from bot.context import CommandContext
from bot.errors import UsageError
from bot.version import VERSION

commands = CommandSet()


@commands.command(
    "help",
    "List what I can do, or explain one command.",
    params=[arg("command", "Which command to explain", required=False, repeat=True)],
    aliases=("?",),
    examples=("help", "help deploy"),
)
async def help_(ctx: CommandContext, args) -> str:  # type: ignore[no-untyped-def]
    registry = ctx.services.registry
    if not args.command:
        return _overview(ctx)
    name = " ".join(args.command).lower()
    spec = registry.get(name)
    if spec is None:
        try:
            spec, _ = registry.resolve(args.command)
        except UsageError as exc:
            suggestions = getattr(exc, "suggestions", [])
            hint = f" Did you mean {' or '.join(f'`{s}`' for s in suggestions)}?" if suggestions else ""
            return f"There is no command `{name}`.{hint} Type `help` for the list."
    return describe(spec)


def _overview(ctx: CommandContext) -> str:
    lines = ["**k8or** — what I can do (type `help <command>` for details):", ""]
    for spec in ctx.services.registry:
        marker = " ⚠️" if spec.destructive else ""
        lines.append(f"- `{spec.name}` — {spec.summary}{marker}")
    lines += ["", "⚠️ asks for confirmation first."]
    return "\n".join(lines)


def describe(spec: CommandSpec) -> str:
    """`help <command>`: usage, arguments, who may run it, what it needs."""
    lines = [f"**{spec.name}** — {spec.summary}", f"Usage: `{spec.usage}`"]
    if spec.details:
        lines.append(spec.details)
    if spec.params:
        lines.append("Arguments:")
        for p in spec.params:
            extra = []
            if p.choices:
                extra.append("one of " + ", ".join(p.choices))
            if not p.required and p.default not in (None, False, (), []):
                extra.append(f"default {p.default}")
            suffix = f" ({'; '.join(extra)})" if extra else ""
            lines.append(f"- `{p.display.strip('[]')}` — {p.help or p.name}{suffix}")
    if spec.roles:
        lowest = next((r for r in ROLES if r in spec.roles), sorted(spec.roles)[0])
        lines.append(f"Needs role: `{lowest}` or higher (an RBAC file may change this).")
    if spec.connectors:
        lines.append("Acts as you on: " + ", ".join(spec.connectors) + ".")
    if spec.destructive:
        lines.append("Destructive: asks for confirmation, valid 5 minutes.")
    if spec.aliases:
        lines.append("Also: " + ", ".join(f"`{a}`" for a in spec.aliases))
    if spec.examples:
        lines.append("Examples: " + "; ".join(f"`{e}`" for e in spec.examples))
    return "\n".join(lines)


@commands.command("whoami", "Show who you are to k8or: channel identity and roles.")
async def whoami(ctx: CommandContext, _args) -> str:  # type: ignore[no-untyped-def]
    p = ctx.person
    lines = [
        f"You are **{p.name or p.user_id}** on `{p.channel}`.",
        f"- k8or key: `{p.key}`",
        f"- channel user id: `{p.user_id}`",
    ]
    if p.aad_object_id:
        lines.append(f"- AAD object id: `{p.aad_object_id}`")
    if p.tenant_id:
        lines.append(f"- tenant: `{p.tenant_id}`")
    if p.team_id:
        lines.append(f"- Slack team: `{p.team_id}`")
    if p.email:
        lines.append(f"- email: `{p.email}`")
    if p.groups:
        lines.append("- groups: " + ", ".join(f"`{g}`" for g in sorted(p.groups)))
    roles = (
        ", ".join(f"`{r}`" for r in sorted(ctx.roles)) or "none (ask an admin to add you to the RBAC file)"
    )
    lines.append(f"- roles: {roles}")
    return "\n".join(lines)


@commands.command("version", "Show k8or's version.")
async def version(_ctx: CommandContext, _args) -> str:  # type: ignore[no-untyped-def]
    return f"k8or {VERSION}"

"""The commands every k8or has: help, whoami, version."""

from __future__ import annotations

from bot import messages
from bot.approvals import authorization
from bot.commands.grammar import Arguments, arg
from bot.commands.registry import CommandSet, CommandSpec
from bot.context import CommandContext
from bot.errors import UsageError
from bot.roles import LOCAL_OPERATOR, matches_for
from bot.trust import provenance
from bot.version import VERSION
from policy.rbac import Match
from policy.roles import ROLES

commands = CommandSet()


@commands.command(
    "help",
    "List what I can do, or explain one command.",
    params=[arg("command", "Which command to explain", required=False, repeat=True)],
    aliases=("?",),
    examples=("help", "help deploy"),
)
async def help_(ctx: CommandContext, args: Arguments) -> str:
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
    return describe(spec, authorization(ctx.services, spec, frozenset()).lowest)


def _overview(ctx: CommandContext) -> str:
    lines = ["**k8or** — what I can do (type `help <command>` for details):", ""]
    for spec in ctx.services.registry:
        marker = " ⚠️" if spec.destructive else ""
        lines.append(f"- `{spec.name}` — {spec.summary}{marker}")
    lines += ["", "⚠️ asks for confirmation first."]
    return "\n".join(lines)


def describe(spec: CommandSpec, role: str = "") -> str:
    """`help <command>`: usage, arguments, who may run it (`role`: the lowest role that applies now,
    the RBAC file's if it sets one), what it needs."""
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
    if role:
        lines.append(f"Needs role: `{role}` or higher.")
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
async def whoami(ctx: CommandContext, _args: Arguments) -> str:
    p = ctx.person
    lines = [messages.WHOAMI_YOU.format(name=p.name or p.user_id, channel=p.channel), messages.WHOAMI_KEYS]
    lines += [messages.WHOAMI_KEY.format(key=key, source=source) for key, source in provenance(p)]
    ordered = sorted(ctx.roles, key=lambda r: (ROLES.index(r) if r in ROLES else len(ROLES), r))
    roles = ", ".join(f"`{r}`" for r in ordered) or messages.WHOAMI_NO_ROLES
    lines.append(messages.WHOAMI_ROLES_LINE.format(roles=roles))
    found = matches_for(ctx.services.roles, p)
    lines += [_matched(m) for m in found]
    if not found:
        lines.append(messages.WHOAMI_NO_MATCH)
    return "\n".join(lines)


def _matched(match: Match) -> str:
    if match.kind == LOCAL_OPERATOR:
        return messages.WHOAMI_LOCAL_OPERATOR.format(role=match.role)
    return messages.WHOAMI_MATCHED.format(kind=match.kind, entry=match.entry, role=match.role)


@commands.command("version", "Show k8or's version.")
async def version(_ctx: CommandContext, _args: Arguments) -> str:
    return f"k8or {VERSION}"

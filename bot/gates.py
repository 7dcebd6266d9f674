"""What a command must pass before anything is asked or run: the role, the sign-ins, the command's own
requirements (a cluster chosen). The pipeline runs them before the first question, before asking for
confirmation and again before running, so nobody answers questions for a command they cannot run.
"""

from __future__ import annotations

import logging
from typing import Protocol

from bot import messages
from bot.approvals import authorization
from bot.context import CommandContext
from bot.delivery import current_activity_key
from bot.identity import Person
from bot.services import Services
from policy.entries import audit_entry

log = logging.getLogger("k8or.turn")


class Outcome(Protocol):
    outcome: str


class Gates:
    """The checks, each refusal audited and answered."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def admit(self, ctx: CommandContext, record: Outcome, approver: Person | None = None) -> bool:
        """True when the command may go on: role, sign-ins, then its own requirements."""
        return (
            await self._authorized(ctx, record, approver)
            and await self._signed_in(ctx, record, approver)
            and await self._ready(ctx, record, approver)
        )

    async def _authorized(self, ctx: CommandContext, record: Outcome, approver: Person | None) -> bool:
        """The role check (policy.roles.authorize); a refusal is audited and answered."""
        decision = authorization(self.services, ctx.spec, ctx.roles)
        if decision.allowed:
            return True
        record.outcome = "refused"
        needed = f"`{decision.lowest}`"  # roles include those below them: name the lowest
        held = ", ".join(sorted(ctx.roles)) or messages.NO_ROLES
        await self.audit(ctx, "refused", f"needs {needed}", approver)
        await ctx.turn.send_activity(
            messages.NOT_ALLOWED.format(command=ctx.spec.name, roles=needed, held=held)
        )
        return False

    async def _signed_in(self, ctx: CommandContext, record: Outcome, approver: Person | None) -> bool:
        """The sign-in gate: every connector the command needs has the person's credentials."""
        if not ctx.spec.connectors or self.services.gate is None:
            return True
        missing = await self.services.gate.missing(ctx.person, ctx.spec.connectors)
        if not missing:
            return True
        record.outcome = "needs_login"
        await self.audit(ctx, "needs_login", ", ".join(m[0] for m in missing), approver)
        await self._ask_to_sign_in(ctx, missing)
        return False

    async def _ready(self, ctx: CommandContext, record: Outcome, approver: Person | None) -> bool:
        """The command's own requirements (CommandSpec.requires), the first unmet one answered."""
        reason = next((r for check in ctx.spec.requires if (r := check(ctx))), None)
        if reason is None:
            return True
        record.outcome = "not_ready"
        await self.audit(ctx, "refused", reason, approver)
        await ctx.turn.send_activity(reason)
        return False

    async def _ask_to_sign_in(self, ctx: CommandContext, missing: list[tuple[str, str, str]]) -> None:
        """Links are personal: in a group chat they go to the person directly, never to the room."""
        if not ctx.is_group:
            await ctx.reply(login_reply(ctx.spec.name, missing))
            return
        direct = self.services.direct
        delivered = direct is not None and await direct.deliver(
            ctx.person.key, login_reply(ctx.spec.name, missing)
        )
        services = ", ".join(display for _, display, _ in missing)
        note = messages.LOGIN_SENT_PRIVATELY if delivered else messages.LOGIN_MESSAGE_ME
        await ctx.reply(
            messages.NEEDS_LOGIN_GROUP.format(command=ctx.spec.name, services=services) + " " + note
        )

    async def audit(self, ctx: CommandContext, outcome: str, detail: str, approver: Person | None) -> None:
        """One audit entry for a command that has roles, connectors or is destructive."""
        audit = self.services.audit
        if audit is None or not (ctx.spec.roles or ctx.spec.connectors or ctx.spec.destructive):
            return
        entry = audit_entry(
            actor_key=ctx.person.key,
            actor_name=ctx.person.name,
            channel=ctx.person.channel,
            command=ctx.spec.name,
            line=ctx.line,
            cluster=ctx.cluster,
            namespace=ctx.namespace,
            target=ctx.audit_target.get("app", ""),
            outcome=outcome,
            detail=detail,
            approver_key=approver.key if approver else "",
            correlation_id=ctx.correlation_id,
            activity_id=current_activity_key(),
        )
        try:
            await audit.append(entry)
        except Exception:
            log.exception("audit append failed")
            raise


def login_reply(command: str, missing: list[tuple[str, str, str]]) -> str:
    """Sign-in links, one line per service the command acts on."""
    services = ", ".join(display for _, display, _ in missing)
    lines = [messages.NEEDS_LOGIN.format(command=command, services=services)]
    for service, display, link in missing:
        lines.append(
            messages.LOGIN_LINE.format(display=display, service=service, link=f" — {link}" if link else "")
        )
    return "\n".join(lines)

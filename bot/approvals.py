"""Deciding on a pending destructive action: which one a decision means, who may give it, and why not.

    card button (id) / typed `yes`, `no`, `yes <id>`
      ─► which action ─► expired? ─► the right person? ─► command still there?
      ─► requester still holds the role? ─► Approval: the pipeline runs it at its recorded target

A typed answer counts only when exactly one action in the conversation waits for that person:
their own (unless it needs a second person), or another's two-person action they may approve.
Every decision -- approved, refused, cancelled, expired -- is audited with requester and approver.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from botbuilder.core import TurnContext

from bot import messages
from bot.commands.grammar import params_positional
from bot.commands.registry import CommandSpec
from bot.confirm import ApprovalBook, PendingAction
from bot.delivery import current_activity_key
from bot.errors import K8orError
from bot.identity import Person
from bot.logs import correlation_id
from policy.entries import audit_entry
from policy.rbac import command_overrides
from policy.roles import Authorization, authorize

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("k8or.approvals")


class TargetGone(K8orError):
    """A confirmed action's recorded target is no longer there; its command raises this before acting."""


class TurnOutcome(Protocol):
    """The pipeline's per-turn record: what the log line and the metrics report."""

    command: str
    outcome: str


@dataclass(frozen=True)
class Approval:
    """A confirmed action the pipeline may now run, as `requester`, at `pending.where`."""

    pending: PendingAction
    spec: CommandSpec
    requester: Person


def authorization(services: Services, spec: CommandSpec, held: frozenset[str]) -> Authorization:
    """May someone holding `held` run this command? The one authorization path (policy.roles), with
    the roles the command declares and the RBAC file's overrides."""
    return authorize(held, spec.name, spec.roles, command_overrides(services.roles))


def subject_of(spec: CommandSpec, values: dict[str, Any]) -> str:
    """What the command acts on, for messages: its first positional argument."""
    for param in params_positional(spec.params):
        value = values.get(param.dest)
        if value not in (None, "", []):
            return str(value)
    return ""


class ConfirmationDesk:
    """Resolves confirmation turns against the conversation's ApprovalBook."""

    def __init__(self, services: Services):
        self.services = services

    async def decide(
        self,
        turn: TurnContext,
        book: ApprovalBook,
        person: Person,
        record: TurnOutcome,
        decision: str,
        action_id: str | None,
        prompting: bool,
    ) -> tuple[bool, Approval | None]:
        """(was this turn a confirmation, the approval to run if any)."""
        if action_id is not None:
            pending = book.get(action_id)
            if pending is None:
                record.outcome = "stale_confirmation"
                await turn.send_activity(messages.CONFIRM_STALE)
                return True, None
            return True, await self._resolve(turn, book, pending, person, record, decision)
        actions = book.all()
        if not actions and prompting:  # a plain answer to k8or's own question
            return False, None
        mine = [p for p in actions if self._may_decide(p, person, decision)]
        if len(mine) == 1:
            return True, await self._resolve(turn, book, mine[0], person, record, decision)
        if len(mine) > 1:
            await self._ambiguous(turn, mine, person, record, decision)
            return True, None
        own = next((p for p in actions if p.requester_key == person.key), None)
        if own is not None:  # their own two-person action: refused, and audited as such
            return True, await self._resolve(turn, book, own, person, record, decision)
        if prompting:
            return False, None
        record.outcome = "stale_confirmation"
        await turn.send_activity(messages.CONFIRM_NONE_FOR_YOU if actions else messages.CONFIRM_NONE)
        return True, None

    def _holds_role(self, person: Person, command: str) -> bool:
        spec = self.services.registry.get(command)
        if spec is None:
            return False
        return authorization(self.services, spec, self.services.roles.roles_for(person)).allowed

    def _may_decide(self, pending: PendingAction, person: Person, decision: str) -> bool:
        """Is this action one a plain `yes`/`no` from this person may mean?"""
        if pending.requester_key == person.key:
            return decision == "no" or not pending.two_person
        return pending.two_person and self._holds_role(person, pending.command)

    def _refusal(self, pending: PendingAction, person: Person, decision: str) -> tuple[str, str] | None:
        """(audit detail, reply) when this person may not give this decision; None when they may."""
        own = pending.requester_key == person.key
        approver = pending.two_person and not own and self._holds_role(person, pending.command)
        if decision != "yes" and (own or approver):  # cancelling: the requester, or a possible approver
            return None
        if decision == "yes" and pending.two_person and own:
            text = messages.CONFIRM_NEEDS_OTHER.format(
                namespace=pending.namespace, requester=pending.requester_name, line=pending.line
            )
            return "two-person rule: the requester may not approve", text
        if decision == "yes" and pending.two_person:
            return (
                None if approver else ("approver lacks the role", self._approver_role_text(pending, person))
            )
        if decision == "yes" and own:
            return None
        return "not the requester", messages.CONFIRM_NOT_YOURS.format(
            requester=pending.requester_name, line=pending.line
        )

    def _approver_role_text(self, pending: PendingAction, person: Person) -> str:
        spec = self.services.registry.get(pending.command)
        held_roles = self.services.roles.roles_for(person)
        required = authorization(self.services, spec, held_roles).required if spec else frozenset({"admin"})
        needed = " or ".join(f"`{r}`" for r in sorted(required))
        held = ", ".join(sorted(held_roles)) or messages.NO_ROLES
        return messages.CONFIRM_APPROVER_ROLE.format(line=pending.line, roles=needed, held=held)

    async def _resolve(
        self,
        turn: TurnContext,
        book: ApprovalBook,
        pending: PendingAction,
        person: Person,
        record: TurnOutcome,
        decision: str,
    ) -> Approval | None:
        record.command = pending.command
        if pending.expired:
            book.remove(pending.id)
            await self._close(turn, pending, person, record, "expired", "")
            return None
        refusal = self._refusal(pending, person, decision)
        if refusal is not None:  # kept: the right person may still decide
            await self._close(turn, pending, person, record, "refused", refusal[0], refusal[1])
            return None
        book.remove(pending.id)
        if decision != "yes":
            await self._close(turn, pending, person, record, "cancelled", "")
            return None
        return await self._approve(turn, pending, person, record)

    async def _approve(
        self, turn: TurnContext, pending: PendingAction, person: Person, record: TurnOutcome
    ) -> Approval | None:
        spec = self.services.registry.get(pending.command)
        if spec is None:
            text = messages.CONFIRM_COMMAND_GONE.format(command=pending.command, line=pending.line)
            await self._close(turn, pending, person, record, "refused", "command gone", text)
            return None
        # Confirming your own action runs as you are now; another's, as they were recorded.
        requester = person if person.key == pending.requester_key else pending.requester_person
        decision = authorization(self.services, spec, self.services.roles.roles_for(requester))
        if not decision.allowed:
            text = messages.CONFIRM_ROLE_CHANGED.format(
                action=pending.describe(),
                requester=pending.requester_name,
                roles=" or ".join(f"`{r}`" for r in sorted(decision.required)),
                command=spec.name,
            )
            await self._close(turn, pending, person, record, "refused", "role changed", text)
            return None
        if person.key == pending.requester_key:
            text = messages.CONFIRM_APPROVED.format(action=pending.describe())
        else:
            text = messages.CONFIRM_APPROVED_FOR.format(
                action=pending.describe(),
                requester=pending.requester_name,
                approver=person.name or person.key,
            )
        await self._close(turn, pending, person, record, "approved", "", text)
        return Approval(pending, spec, requester)

    async def _ambiguous(
        self, turn: TurnContext, actions: list[PendingAction], person: Person, record: TurnOutcome, word: str
    ) -> None:
        record.outcome = "ambiguous_confirmation"
        lines = [
            messages.CONFIRM_AMBIGUOUS_LINE.format(id=p.id, action=p.describe(), requester=p.requester_name)
            for p in actions
        ]
        for pending in actions:
            await self.audit(
                pending, person, "refused", f"ambiguous `{word}`: {len(actions)} actions waiting"
            )
        await turn.send_activity(messages.CONFIRM_AMBIGUOUS.format(word=word, actions="\n".join(lines)))

    async def _close(
        self,
        turn: TurnContext,
        pending: PendingAction,
        person: Person,
        record: TurnOutcome,
        outcome: str,
        detail: str,
        text: str = "",
    ) -> None:
        """Record one decision on the action: the turn's outcome, the audit entry, the reply."""
        record.outcome = outcome
        await self.audit(pending, person, outcome, detail)
        if not text:
            template = messages.CONFIRM_EXPIRED if outcome == "expired" else messages.CONFIRM_CANCELLED
            text = template.format(line=pending.line)
        await turn.send_activity(text)

    async def audit(self, pending: PendingAction, approver: Person, outcome: str, detail: str) -> None:
        """One audit entry for a decision, naming the requester (actor) and the approver."""
        audit = self.services.audit
        if audit is None:
            return
        entry = audit_entry(
            actor_key=pending.requester_key,
            actor_name=pending.requester_name,
            channel=str(pending.requester.get("channel", "")),
            command=pending.command,
            line=pending.line,
            cluster=pending.cluster,
            namespace=pending.namespace,
            target=pending.subject,
            outcome=outcome,
            detail=f"{detail} (action {pending.id})".strip(),
            approver_key=approver.key,
            correlation_id=correlation_id.get(),
            activity_id=current_activity_key(),
        )
        try:
            await audit.append(entry)
        except Exception:
            log.exception("audit append failed")
            raise

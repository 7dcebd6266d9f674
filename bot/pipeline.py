"""The turn pipeline: one place where every message is deduplicated, understood, authorized,
confirmed, run, audited, measured and logged.

    activity ─► ledger claim ─► state load ─► dialog / confirmation / command ─► roles ─► connectors
             ─► confirmation ─► handler ─► audit ─► state save ─► replies ─► ledger done ─► log + metrics

Once only, across replicas (`bot.dedupe`): the turn runs under a claim on its activity. Its messages
are held (`HeldReplies`; a progress message goes at once) until its work is done, then sent, and the
activity is marked done at once after them. A turn that took over the claim of a replica that died
checks the audit trail before running its command: if the command's handler already ran for this
activity (an entry with this activity id and an outcome in `policy.audit.HANDLER_OUTCOMES`), the turn
answers that it was already done, with the earlier outcome, and does not act again.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from botbuilder.core import Bot, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from bot import messages
from bot.approvals import ConfirmationDesk, TargetGone, authorization, subject_of
from bot.argument_prompts import ArgumentPrompts
from bot.channel_client import ChannelError
from bot.commands.grammar import Arguments, parse, tokenize
from bot.commands.registry import CommandSpec
from bot.confirm import ApprovalBook, PendingAction, confirmation_request, decision_from
from bot.context import CommandContext, HeldReplies, Reply, TargetRef
from bot.delivery import acted_before, current_activity_key
from bot.errors import K8orError, StateConflict, UnknownCommand, UsageError
from bot.identity import Person
from bot.logs import correlation_id
from bot.services import Services
from bot.state import TurnState
from bot.text import button_target, command_line
from policy.entries import audit_entry

log = logging.getLogger("k8or.turn")


@dataclass
class TurnRecord:
    """What the one log line and the metrics say about a turn."""

    channel: str
    conversation: str
    user: str
    command: str = "-"
    outcome: str = "ignored"

    @classmethod
    def of(cls, activity: Activity) -> TurnRecord:
        return cls(
            channel=activity.channel_id or "unknown",
            conversation=(activity.conversation.id if activity.conversation else "") or "",
            user=(activity.from_property.id if activity.from_property else "") or "",
        )


class K8orBot(Bot):
    """The bot every channel talks to: Bot Framework, Slack and the console share this handler."""

    def __init__(self, services: Services):
        self.services = services
        self.state = TurnState(services.storage)
        self.prompts = ArgumentPrompts(self.state, services)  # loads botbuilder-dialogs at the first prompt
        self.desk = ConfirmationDesk(services)

    async def on_turn(self, context: TurnContext) -> None:
        started = time.perf_counter()
        cid = uuid.uuid4().hex[:12]
        token = correlation_id.set(cid)
        record = TurnRecord.of(context.activity)
        tracker, metrics = self.services.tracker, self.services.metrics
        tracker.turn_started()
        metrics.in_flight.inc()
        try:
            await self._guarded_turn(context, record, cid)
        finally:
            elapsed = time.perf_counter() - started
            metrics.in_flight.dec()
            tracker.turn_finished()
            self._measure(record, elapsed)
            correlation_id.reset(token)

    async def _guarded_turn(self, context: TurnContext, record: TurnRecord, cid: str) -> None:
        """The turn, with every failure turned into an outcome and, where the channel works, a reply."""
        try:
            await self._turn(context, record, cid)
        except StateConflict:
            record.outcome = "conflict"
            await self._safe_send(context, messages.STATE_CONFLICT)
        except ChannelError as exc:
            # The channel itself is down or refusing: nothing more can be said there, so one line
            # in the log, no traceback, and the rest of the bot carries on.
            record.outcome = "undeliverable"
            log.warning("reply not delivered: %s", exc, extra={"status": exc.status})
        except Exception:
            record.outcome = "error"
            log.exception("turn failed")
            await self._safe_send(context, messages.INTERNAL_ERROR.format(command=record.command, cid=cid))

    def _measure(self, record: TurnRecord, elapsed: float) -> None:
        """The turn's metrics and its one log line."""
        metrics = self.services.metrics
        metrics.turns.labels(record.channel, record.command, record.outcome).inc()
        metrics.turn_seconds.labels(record.channel).observe(elapsed)
        log.info(
            "turn",
            extra={
                "channel": record.channel,
                "conversation": record.conversation,
                "user": record.user,
                "command": record.command,
                "outcome": record.outcome,
                "latency_ms": round(elapsed * 1000, 2),
            },
        )

    async def _turn(self, context: TurnContext, record: TurnRecord, cid: str) -> None:
        activity = context.activity
        if activity.type != ActivityTypes.message:
            return
        if not activity.id:  # nothing to know a redelivery by
            await self._process(context, record, cid)
            return
        claim = await self.services.ledger.claim(record.channel, record.conversation, activity.id)
        if claim is None:
            record.outcome = "duplicate"
            return
        replies = HeldReplies.install(context)
        async with claim:  # done right after the replies are sent; released if the turn fails
            await self._process(context, record, cid)
            await replies.release(watch=claim)  # marked done as the last reply leaves

    async def _process(self, context: TurnContext, record: TurnRecord, cid: str) -> None:
        await self.state.load(context)
        person = await self.services.identity.person(context)
        if self.services.direct is not None:
            await self.services.direct.remember(context, person)
        await self._message(context, person, record, cid)
        await self.state.save(context)

    async def _message(self, context: TurnContext, person: Person, record: TurnRecord, cid: str) -> None:
        activity = context.activity
        line = command_line(activity)
        data = self.state.conversation_data(context)
        prompting = self.state.has_active_dialog(context)
        answering = prompting and data.get("prompting_user", person.key) == person.key
        decision, pending_id = decision_from(line, activity.value)
        if decision and await self._decide(context, person, record, cid, (decision, pending_id), answering):
            return
        if answering:
            await self._continue_prompt(context, person, record, cid, line)
            return
        if not line:
            record.outcome = "empty"
            await context.send_activity(messages.EMPTY_MESSAGE)
            return
        line = self.services.registry.meaning(line)  # "is PROJ-123 live?" means `release PROJ-123`
        try:
            tokens = tokenize(line)
            spec, rest = self.services.registry.resolve(tokens)
            record.command = spec.name
            parsed = parse(spec.params, rest, spec.name)
        except UsageError as exc:
            record.outcome = "usage"
            await context.send_activity(self._usage_reply(exc))
            return
        if parsed.missing and prompting:
            # Someone else in this group chat is answering a question of k8or's: don't take it over.
            record.outcome = "usage"
            missing = ", ".join(p.display.strip("[]") for p in parsed.missing)
            await context.send_activity(messages.MISSING_WHILE_BUSY.format(missing=missing, usage=spec.usage))
            return
        if parsed.missing:
            record.outcome = "prompting"
            data["prompting"] = spec.name
            data["prompting_user"] = person.key
            await self.prompts.begin(context, spec.name, line, parsed.values, parsed.missing)
            return
        where = button_target(activity.value)  # an alert's button acts where the alert came from
        await self._execute(context, person, record, cid, spec, parsed.values, line, where=where)

    async def _decide(
        self,
        context: TurnContext,
        person: Person,
        record: TurnRecord,
        cid: str,
        answer: tuple[str, str | None],
        answering: bool,
    ) -> bool:
        """A `yes`/`no` (decision, action id or None) or a card button: run the one action it
        approves, at its recorded target. False when it meant no action: then it is the person's
        answer to k8or's own question (`answering`), or an ordinary line."""
        book = ApprovalBook(self.state.conversation_data(context))
        decision, action_id = answer
        handled, approval = await self.desk.decide(
            context, book, person, record, decision, action_id, answering
        )
        if approval is not None:
            pending = approval.pending
            await self._execute(
                context, approval.requester, record, cid, approval.spec, pending.values, pending.line,
                confirmed=True, approver=person, where=pending.where,
            )  # fmt: skip
        return handled

    def _usage_reply(self, exc: UsageError) -> str:
        if isinstance(exc, UnknownCommand):
            text = str(exc)
            if exc.suggestions:
                choices = " or ".join(f"`{s}`" for s in exc.suggestions)
                text += " " + messages.DID_YOU_MEAN.format(choices=choices)
            return f"{text} {messages.SEE_HELP}"
        text = str(exc)
        spec = self.services.registry.get(exc.command) if exc.command else None
        if spec:
            text += "\n" + messages.USAGE.format(usage=spec.usage)
        return text

    async def _continue_prompt(
        self, context: TurnContext, person: Person, record: TurnRecord, cid: str, line: str
    ) -> None:
        dc = await self.prompts.current(context)
        data = self.state.conversation_data(context)
        command = record.command = data.get("prompting", "-")
        if line.strip().lower() in ("cancel", "stop", "quit"):
            await dc.cancel_all_dialogs()
            data.pop("prompting", None)
            data.pop("prompting_user", None)
            record.outcome = "cancelled"
            await context.send_activity(messages.PROMPT_CANCELLED.format(command=command))
            return
        result = await dc.continue_dialog()
        if not self.prompts.finished(result):
            record.outcome = "prompting"
            return
        data.pop("prompting", None)
        data.pop("prompting_user", None)
        try:
            values = self.prompts.values(result)
        except UsageError as exc:
            record.outcome = "usage"
            await context.send_activity(str(exc))
            return
        spec = self.services.registry.get(result.result["command"])
        assert spec is not None  # complete_values checked it
        await self._execute(context, person, record, cid, spec, values, result.result["line"])

    async def _execute(
        self,
        context: TurnContext,
        person: Person,
        record: TurnRecord,
        cid: str,
        spec: CommandSpec,
        values: dict[str, Any],
        line: str,
        confirmed: bool = False,
        approver: Person | None = None,
        where: TargetRef | None = None,
    ) -> None:
        data = self.state.conversation_data(context)
        ctx = CommandContext(
            turn=context,
            person=person,
            roles=self.services.roles.roles_for(person),
            services=self.services,
            conversation=data,
            correlation_id=cid,
            spec=spec,
            line=line,
            confirmed=confirmed,
            where=where or TargetRef.of(data),
        )
        if not await self._authorized(ctx, record, approver) or not await self._signed_in(
            ctx, record, approver
        ):
            return
        if spec.destructive and not confirmed:
            await self._ask_confirmation(ctx, record, values)
            return
        await self._run(ctx, record, values, approver)

    async def _authorized(self, ctx: CommandContext, record: TurnRecord, approver: Person | None) -> bool:
        """The role check (policy.roles.authorize); a refusal is audited and answered."""
        decision = authorization(self.services, ctx.spec, ctx.roles)
        if decision.allowed:
            return True
        record.outcome = "refused"
        needed = f"`{decision.lowest}`"  # roles include those below them: name the lowest
        held = ", ".join(sorted(ctx.roles)) or messages.NO_ROLES
        await self._audit(ctx, "refused", f"needs {needed}", approver)
        await ctx.turn.send_activity(
            messages.NOT_ALLOWED.format(command=ctx.spec.name, roles=needed, held=held)
        )
        return False

    async def _signed_in(self, ctx: CommandContext, record: TurnRecord, approver: Person | None) -> bool:
        """The sign-in gate: every connector the command needs has the person's credentials."""
        if not ctx.spec.connectors or self.services.gate is None:
            return True
        missing = await self.services.gate.missing(ctx.person, ctx.spec.connectors)
        if not missing:
            return True
        record.outcome = "needs_login"
        await self._audit(ctx, "needs_login", ", ".join(m[0] for m in missing), approver)
        await self._ask_to_sign_in(ctx, missing)
        return False

    async def _ask_confirmation(
        self, ctx: CommandContext, record: TurnRecord, values: dict[str, Any]
    ) -> None:
        """Record the action with its target and requester; refuse while this person has one waiting."""
        book = ApprovalBook(ctx.conversation)
        waiting = book.waiting_for(ctx.person.key)
        if waiting is not None:
            record.outcome = "refused"
            await self._audit(ctx, "refused", f"action {waiting.id} is still waiting for confirmation", None)
            await ctx.reply(
                messages.CONFIRM_ALREADY_PENDING.format(
                    action=waiting.describe(), line=waiting.line, id=waiting.id
                )
            )
            return
        record.outcome = "awaiting_confirmation"
        two = self.services.approvals.two_person_rule(ctx.namespace)  # fixed now, from the recorded namespace
        subject = subject_of(ctx.spec, values)
        pending = PendingAction.create(ctx.line, ctx.spec.name, values, subject, ctx.person, ctx.target, two)
        book.add(pending)
        await self._audit(ctx, "confirmation_requested", f"action {pending.id}", None)
        await ctx.reply(confirmation_request(pending, ctx.person.channel))

    async def _run(
        self, ctx: CommandContext, record: TurnRecord, values: dict[str, Any], approver: Person | None
    ) -> None:
        if await self._acted_before(ctx, record):
            return
        timeout = self.services.settings.turn_timeout
        try:
            async with asyncio.timeout(timeout):  # no extra task per turn, unlike wait_for
                result = await ctx.spec.handler(ctx, Arguments(values))
        except TargetGone as exc:
            record.outcome = "refused"
            await self._audit(ctx, "refused", f"target gone: {exc}", approver)
            await ctx.reply(str(exc))
            return
        except K8orError as exc:
            record.outcome = "failed"
            await self._audit(ctx, "failed", str(exc), approver)
            await ctx.reply(messages.ERROR_WITH_REF.format(message=exc, cid=ctx.correlation_id))
            return
        except TimeoutError:
            record.outcome = "timeout"
            await self._audit(ctx, "timeout", "", approver)
            await ctx.reply(
                messages.TIMED_OUT.format(command=ctx.spec.name, seconds=timeout, cid=ctx.correlation_id)
            )
            return
        except Exception:
            record.outcome = "error"
            log.exception("command failed", extra={"command": ctx.spec.name})
            await self._audit(ctx, "error", "", approver)
            await ctx.reply(messages.INTERNAL_ERROR.format(command=ctx.spec.name, cid=ctx.correlation_id))
            return
        record.outcome = "ok"
        await self._audit(ctx, "ok", "", approver)
        if isinstance(result, str | Reply):
            await ctx.reply(result)

    async def _acted_before(self, ctx: CommandContext, record: TurnRecord) -> bool:
        """A retaken turn whose command's handler already ran for this activity: say so, run nothing."""
        earlier = await acted_before(self.services.audit, ctx.spec.name)
        if earlier is None:
            return False
        record.outcome = "already_done"
        await ctx.reply(
            messages.ALREADY_DONE.format(
                command=ctx.spec.name, outcome=earlier.outcome, at=earlier.at, cid=earlier.correlation_id
            )
        )
        return True

    async def _ask_to_sign_in(self, ctx: CommandContext, missing: list[tuple[str, str, str]]) -> None:
        """Links are personal: in a group chat they go to the person directly, never to the room."""
        if not ctx.is_group:
            await ctx.reply(_login_reply(ctx.spec.name, missing))
            return
        direct = self.services.direct
        delivered = direct is not None and await direct.deliver(
            ctx.person.key, _login_reply(ctx.spec.name, missing)
        )
        services = ", ".join(display for _, display, _ in missing)
        note = messages.LOGIN_SENT_PRIVATELY if delivered else messages.LOGIN_MESSAGE_ME
        await ctx.reply(
            messages.NEEDS_LOGIN_GROUP.format(command=ctx.spec.name, services=services) + " " + note
        )

    async def _audit(self, ctx: CommandContext, outcome: str, detail: str, approver: Person | None) -> None:
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

    @staticmethod
    async def _safe_send(context: TurnContext, text: str) -> None:
        """A failed turn's error message, after what the turn said before it failed."""
        try:
            await context.send_activity(MessageFactory.text(text))
            await HeldReplies.release_in(context)
        except Exception:  # noqa: BLE001 - the channel itself may be the thing that failed
            log.warning("could not deliver error reply", exc_info=True)


def _login_reply(command: str, missing: list[tuple[str, str, str]]) -> str:
    services = ", ".join(display for _, display, _ in missing)
    lines = [messages.NEEDS_LOGIN.format(command=command, services=services)]
    for service, display, link in missing:
        lines.append(
            messages.LOGIN_LINE.format(display=display, service=service, link=f" — {link}" if link else "")
        )
    return "\n".join(lines)

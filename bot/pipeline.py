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
from bot.approvals import ConfirmationDesk, TargetGone, subject_of
from bot.argument_prompts import CANCEL, COMMAND, HELP, ArgumentPrompts, interruption, is_cancel
from bot.channel_client import ChannelError
from bot.commands.grammar import Arguments, check_command_word, parse, tokenize
from bot.commands.registry import CommandSpec
from bot.confirm import ApprovalBook, PendingAction, confirmation_request, decision_from
from bot.context import CommandContext, HeldReplies, Reply, TargetRef
from bot.delivery import acted_before
from bot.errors import K8orError, StateConflict, UnknownCommand, UsageError
from bot.gates import Gates
from bot.greeting import greeting_text, joined
from bot.identity import Person
from bot.logs import correlation_id
from bot.services import Services
from bot.state import TurnState
from bot.text import button_target, command_line

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
        self.gates = Gates(services)

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
        greeting = joined(activity)  # k8or added to a conversation: say hello, once
        if activity.type != ActivityTypes.message and not greeting:
            return
        work = self._greet if greeting else self._process
        if not activity.id:  # nothing to know a redelivery by
            await work(context, record, cid)
            return
        claim = await self.services.ledger.claim(record.channel, record.conversation, activity.id)
        if claim is None:
            record.outcome = "duplicate"
            return
        replies = HeldReplies.install(context)
        async with claim:  # done right after the replies are sent; released if the turn fails
            await work(context, record, cid)
            await replies.release(watch=claim)  # marked done as the last reply leaves

    async def _greet(self, context: TurnContext, record: TurnRecord, _cid: str) -> None:
        record.outcome = "greeted"
        await context.send_activity(greeting_text(self.services.registry))

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
        if not answering and is_cancel(line) and not ApprovalBook(data).all():
            record.outcome = "nothing_pending"
            await context.send_activity(messages.NOTHING_TO_CANCEL)
            return
        decision, pending_id = decision_from(line, activity.value)
        if decision and await self._decide(context, person, record, cid, (decision, pending_id), answering):
            return
        if answering:
            await self._continue_prompt(context, person, record, cid, line)
            return
        await self._command(context, person, record, cid, line, prompting)

    async def _command(
        self, context: TurnContext, person: Person, record: TurnRecord, cid: str, line: str, prompting: bool
    ) -> None:
        """A command line: parsed, checked, then asked about (missing arguments) or run."""
        if not line:
            record.outcome = "empty"
            await context.send_activity(messages.EMPTY_MESSAGE)
            return
        line = self.services.registry.meaning(line)  # "is PROJ-123 live?" means `release PROJ-123`
        try:
            tokens = tokenize(line)
            check_command_word(tokens)  # a 100 KB first word is refused, not quoted back
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
        where = button_target(context.activity.value)  # an alert's button acts where the alert came from
        ctx = self._context(context, person, cid, spec, line, where=where)
        if not parsed.missing:
            await self._execute(ctx, record, parsed.values)
        elif await self.gates.admit(ctx, record):  # nobody answers questions for a command they can't run
            record.outcome = "prompting"
            data = ctx.conversation
            data["prompting"], data["prompting_user"] = spec.name, person.key
            await self.prompts.begin(context, spec.name, line, parsed.values, parsed.missing)

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
            ctx = self._context(
                context, approval.requester, cid, approval.spec, pending.line, True, pending.where
            )
            await self._execute(ctx, record, pending.values, approver=person)
        return handled

    def _usage_reply(self, exc: UsageError) -> str:
        if isinstance(exc, UnknownCommand):
            text = str(exc)
            if exc.suggestions:
                choices = " or ".join(f"`{s}`" for s in exc.suggestions)
                text += " " + messages.DID_YOU_MEAN.format(choices=choices)
            return f"{text} {messages.SEE_HELP}"
        text = messages.sentence(str(exc))
        spec = self.services.registry.get(exc.command) if exc.command else None
        if spec:
            text += "\n" + messages.USAGE.format(usage=spec.usage)
        return text

    async def _continue_prompt(
        self, context: TurnContext, person: Person, record: TurnRecord, cid: str, line: str
    ) -> None:
        """An answer to k8or's question, or an interruption (BotBuilder's CancelAndHelpDialog
        pattern): `cancel` ends the question, `help` answers and asks again, another command
        asks whether to drop the question."""
        dc = await self.prompts.current(context)
        data = self.state.conversation_data(context)
        command = record.command = data.get("prompting", "-")
        dropping = data.pop("dropping_for", None)
        if dropping is not None and await self._drop_or_stay(
            dc, context, person, record, cid, (line, dropping)
        ):
            return
        kind, spec = interruption(line, self.services.registry)
        if kind == CANCEL:
            await self._end_prompt(dc, data, record, "cancelled")
            await context.send_activity(messages.PROMPT_CANCELLED.format(command=command))
        elif kind == HELP and spec is not None:
            words = tokenize(line)[1:] or command.split()
            await self._run(self._context(context, person, cid, spec, line), record, {"command": words}, None)
            record.command, record.outcome = command, "prompting"
            await dc.reprompt_dialog()  # the question stands
        elif kind == COMMAND and spec is not None:
            data["dropping_for"], record.outcome = line, "prompting"
            question = self.prompts.question(dc) or f"my question for `{command}`"
            await context.send_activity(messages.PROMPT_DROP.format(question=question, command=spec.name))
        else:
            await self._answer(dc, context, person, record, cid)

    async def _drop_or_stay(
        self,
        dc: Any,
        context: TurnContext,
        person: Person,
        record: TurnRecord,
        cid: str,
        lines: tuple[str, str],
    ) -> bool:
        """The answer to "drop the question and run X?": yes runs X, no asks the question again;
        anything else was not an answer to that (False)."""
        line, dropping = lines
        decision, _ = decision_from(line, None)
        if decision == "yes":
            await self._end_prompt(dc, self.state.conversation_data(context), record, "dropped")
            await self._command(context, person, record, cid, dropping, prompting=False)
        elif decision == "no":
            record.outcome = "prompting"
            await dc.reprompt_dialog()
        return decision is not None

    async def _end_prompt(self, dc: Any, data: dict[str, Any], record: TurnRecord, outcome: str) -> None:
        await dc.cancel_all_dialogs()
        for key in ("prompting", "prompting_user", "dropping_for"):
            data.pop(key, None)
        record.outcome = outcome

    async def _answer(
        self, dc: Any, context: TurnContext, person: Person, record: TurnRecord, cid: str
    ) -> None:
        result = await dc.continue_dialog()
        if not self.prompts.finished(result):
            record.outcome = "prompting"
            return
        data = self.state.conversation_data(context)
        data.pop("prompting", None)
        data.pop("prompting_user", None)
        try:
            values = self.prompts.values(result)
        except UsageError as exc:
            record.outcome = "usage"
            await context.send_activity(messages.sentence(str(exc)))
            return
        spec = self.services.registry.get(result.result["command"])
        assert spec is not None  # complete_values checked it
        ctx = self._context(context, person, cid, spec, result.result["line"])
        await self._execute(ctx, record, values)

    def _context(
        self,
        context: TurnContext,
        person: Person,
        cid: str,
        spec: CommandSpec,
        line: str,
        confirmed: bool = False,
        where: TargetRef | None = None,
    ) -> CommandContext:
        data = self.state.conversation_data(context)
        return CommandContext(
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

    async def _execute(
        self, ctx: CommandContext, record: TurnRecord, values: dict[str, Any], approver: Person | None = None
    ) -> None:
        if not await self.gates.admit(ctx, record, approver):
            return
        if ctx.spec.destructive and not ctx.confirmed:
            await self._ask_confirmation(ctx, record, values)
            return
        await self._run(ctx, record, values, approver)

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

    async def _audit(self, ctx: CommandContext, outcome: str, detail: str, approver: Person | None) -> None:
        await self.gates.audit(ctx, outcome, detail, approver)

    @staticmethod
    async def _safe_send(context: TurnContext, text: str) -> None:
        """A failed turn's error message, after what the turn said before it failed."""
        try:
            await context.send_activity(MessageFactory.text(text))
            await HeldReplies.release_in(context)
        except Exception:  # noqa: BLE001 - the channel itself may be the thing that failed
            log.warning("could not deliver error reply", exc_info=True)

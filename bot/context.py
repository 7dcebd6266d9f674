"""What a command handler gets: who asked, where, how to answer, and the app's services."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment, DeliveryModes

from bot.identity import Person
from bot.wire import to_wire

if TYPE_CHECKING:
    from bot.commands.registry import CommandSpec
    from bot.jobs import JobHandler, JobRecord
    from bot.services import Services


class OutgoingActivity(Activity):
    """An activity k8or builds to send. `TurnContext.send_activities` deep-copies every outgoing
    activity before stamping the conversation reference on it; only top-level attributes are
    stamped, so a shallow copy protects the original just as well at a fraction of the cost."""

    def __deepcopy__(self, memo: dict) -> OutgoingActivity:
        clone = OutgoingActivity.__new__(OutgoingActivity)
        clone.__dict__.update(self.__dict__)
        return clone


def message(text: str, attachments: list[Attachment] | None = None) -> OutgoingActivity:
    """A markdown message activity."""
    return OutgoingActivity(
        type=ActivityTypes.message,
        text=text,
        text_format="markdown",
        attachments=list(attachments) if attachments else None,
        input_hint="acceptingInput",
    )


@dataclass
class Reply:
    """A command's answer: text, optional attachments (cards, images)."""

    text: str = ""
    attachments: list[Attachment] = field(default_factory=list)

    def to_activity(self) -> Activity:
        return message(self.text, self.attachments)


class ReplyWatch(Protocol):
    """Told by the channel client about one reply: just before its bytes are written (`ready`, which
    may wait), the moment they are handed to the network (`written`), and its refusal (an error
    answer, or no answer). The turn's claim is one (`bot.dedupe.Claim`)."""

    async def ready(self) -> None: ...

    def written(self) -> None: ...

    async def refused(self) -> None: ...


# The watch of the reply being sent now, if any: set around the send of a turn's last reply.
reply_watch: ContextVar[ReplyWatch | None] = ContextVar("k8or_reply_watch", default=None)


class HeldReplies:
    """A turn's messages, held until its work is done, then sent in the order they were said.

    The pipeline holds them (`install`) so that a turn's answer reaches the channel only once the
    turn has done its work (state saved, audited, job submitted), right before its delivery is
    recorded done (`bot.dedupe`): a replica killed between those two moments has answered a turn
    that a redelivery runs again. Only messages (text, cards) are held; typing indicators and
    everything else go at once. `release` sends what is held and lets everything after it through:
    a progress message, whose id is needed at once to edit it, releases first
    (`CommandContext.progress`), and so does the end of the turn, whose claim watches the last
    reply (`reply_watch`): the turn is marked done as that reply leaves.

    Held through botbuilder's `on_send_activities` hook: the hook takes the messages out of the list
    `TurnContext.send_activities` is about to hand to the adapter (which gets the rest, possibly
    none). Their conversation reference is applied by then; `release` gives them to the adapter."""

    KEY = "k8or.held_replies"

    def __init__(self, turn: TurnContext):
        self._turn = turn
        self._held: list[Activity] = []
        self._holding = True

    @classmethod
    def install(cls, turn: TurnContext) -> HeldReplies:
        held = turn.turn_state[cls.KEY] = cls(turn)
        # Replies the channel expects in the HTTP answer (`expectReplies`) are buffered by the SDK.
        held._holding = turn.activity.delivery_mode != DeliveryModes.expect_replies
        turn.on_send_activities(held._hold)
        return held

    @classmethod
    async def release_in(cls, turn: TurnContext) -> None:
        """Send what this turn holds, if it holds anything; everything after goes at once."""
        held = turn.turn_state.get(cls.KEY)
        if isinstance(held, HeldReplies):
            await held.release()

    async def _hold(
        self, _turn: TurnContext, activities: list[Activity], send: Callable[[], Awaitable[None]]
    ) -> None:
        if self._holding and any(a.type == ActivityTypes.message for a in activities):
            self._held += [a for a in activities if a.type == ActivityTypes.message]
            activities[:] = [a for a in activities if a.type != ActivityTypes.message]
        await send()

    async def release(self, watch: ReplyWatch | None = None) -> None:
        """Send the held messages, in order, the last one watched by `watch`; from now on nothing is
        held. Raises what the channel raised (the messages after the one that failed are not sent)."""
        self._holding = False
        held, self._held = self._held, []
        if len(held) > 1:
            await self._turn.adapter.send_activities(self._turn, held[:-1])
        if held:
            token = reply_watch.set(watch)
            try:
                await self._turn.adapter.send_activities(self._turn, held[-1:])
            finally:
                reply_watch.reset(token)


class ProgressMessage:
    """One message that is edited in place as work advances (Bot Framework `update_activity`).

    Channels that cannot edit messages (and the console) get each new state as a reprint.
    """

    def __init__(self, turn: TurnContext, activity_id: str | None, text: str):
        self._turn = turn
        self.activity_id = activity_id
        self.text = text
        self.updates = 0

    async def update(self, text: str) -> None:
        if text == self.text:
            return
        self.text = text
        self.updates += 1
        if self.activity_id:
            activity = message(text)
            activity.id = self.activity_id
            try:
                await self._turn.update_activity(activity)
                return
            except Exception:  # noqa: BLE001 - a channel that refuses edits still gets the news
                self.activity_id = None
        await self._turn.send_activity(message(text))


@dataclass(frozen=True)
class TargetRef:
    """Where a command acts, by name: the cluster and namespace fixed when it was asked for.

    A confirmed action carries the ones recorded with its request, so a later `ns` or
    `cluster use` in the conversation never moves it somewhere else."""

    cluster: str | None = None
    namespace: str | None = None

    @classmethod
    def of(cls, conversation: dict[str, Any]) -> TargetRef:
        """The conversation's current choice."""
        return cls(conversation.get("cluster"), conversation.get("namespace"))


@dataclass
class CommandContext:
    """Everything a handler may touch. Handlers never see aiohttp or the channel's payloads."""

    turn: TurnContext
    person: Person
    roles: frozenset[str]
    services: Services
    conversation: dict[str, Any]
    correlation_id: str
    spec: CommandSpec
    line: str = ""
    confirmed: bool = False
    audit_target: dict[str, str] = field(default_factory=dict)
    where: TargetRef | None = None  # the pipeline always sets it; None reads the conversation

    async def reply(self, message: str | Reply | Activity) -> str | None:
        """Send a message; returns its activity id when the channel gives one."""
        if isinstance(message, str):
            message = Reply(message)
        activity = message.to_activity() if isinstance(message, Reply) else message
        response = await self.turn.send_activity(activity)
        return getattr(response, "id", None)

    async def progress(self, text: str) -> ProgressMessage:
        """Start a message that `update()` will edit in place: sent at once, after what the turn
        said before it (`HeldReplies`), since its id is needed now."""
        await HeldReplies.release_in(self.turn)
        activity_id = await self.reply(text)
        return ProgressMessage(self.turn, activity_id, text)

    def in_background(self, work: Any, name: str) -> None:
        """Continue after the turn has answered, in this process only: the drain on SIGTERM waits
        for it. Work that must survive the process is a job (`start_job`)."""
        self.services.tracker.spawn(work, name=f"{self.spec.name}:{self.correlation_id}:{name}")

    async def start_job(self, handler: JobHandler, progress: ProgressMessage, **arguments: Any) -> None:
        """Continue after the turn as a job (bot.jobs): `handler` (registered with `JobKinds.kind`)
        gets `arguments` (JSON values) and `progress` to edit. On PostgreSQL the job is stored and
        any replica runs or resumes it; without a durable queue it runs here, on this context."""
        from bot.jobs import JOBS, JobRun
        from bot.jobs.inprocess import InProcessQueue

        queue = self.services.capabilities.get(JOBS) or InProcessQueue(self.services.tracker)
        arguments = json.loads(json.dumps(arguments))  # as stored: the same values on every queue
        run = JobRun(self, progress, arguments)
        await queue.submit(self.job_record(handler, progress, arguments), run, handler)

    def job_record(
        self, handler: JobHandler, progress: ProgressMessage, arguments: dict[str, Any]
    ) -> JobRecord:
        """What a stored job keeps: the handler's kind, arguments, who asked, where, and the message."""
        from bot.jobs import JobRecord, kind_of, requester_of

        reference = TurnContext.get_conversation_reference(self.turn.activity)
        reference.activity_id = None
        return JobRecord(
            kind=kind_of(handler),
            arguments=dict(arguments),
            command=self.spec.name,
            line=self.line,
            correlation_id=self.correlation_id,
            requester=requester_of(self.person),
            roles=tuple(sorted(self.roles)),
            cluster=self.target.cluster,
            namespace=self.target.namespace,
            reference=to_wire(reference),
            activity_id=progress.activity_id,
        )

    @property
    def is_group(self) -> bool:
        conversation = self.turn.activity.conversation
        return bool(conversation and conversation.is_group)

    @property
    def target(self) -> TargetRef:
        """The cluster and namespace this command acts on (recorded ones for a confirmed action)."""
        return self.where if self.where is not None else TargetRef.of(self.conversation)

    @property
    def namespace(self) -> str | None:
        return self.target.namespace

    @property
    def cluster(self) -> str | None:
        return self.target.cluster

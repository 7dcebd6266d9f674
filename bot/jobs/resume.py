"""Running a stored job on any replica: continue the conversation it came from, rebuild the command
context it had, and hand the handler the same progress message to edit."""

from __future__ import annotations

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import ConversationReference

from bot.context import CommandContext, ProgressMessage, TargetRef
from bot.jobs import JobKinds, JobRecord, JobRun
from bot.services import Services
from bot.wire import from_wire


class JobNotRunnable(RuntimeError):
    """The record names a handler, command or channel this replica does not have."""


def adapter_for(services: Services, reference: ConversationReference) -> BotAdapter:
    direct = services.direct
    adapter = direct.adapters.get(reference.channel_id or "", direct.default_adapter) if direct else None
    if adapter is None:
        raise JobNotRunnable(f"no adapter for channel {reference.channel_id!r}")
    return adapter


async def run_record(
    services: Services, kinds: JobKinds, record: JobRecord, attempt: int, job_id: str = ""
) -> None:
    """Run (or resume) `record` inside a continued conversation, as the person who asked; `job_id`
    is the queue's id for it, the same in every run (`JobRun.once`)."""
    handler = kinds.get(record.kind)
    spec = services.registry.get(record.command)
    if handler is None or spec is None:
        raise JobNotRunnable(f"unknown job kind {record.kind!r} or command {record.command!r}")
    reference = from_wire(ConversationReference, record.reference)

    async def callback(turn: TurnContext) -> None:
        ctx = CommandContext(
            turn=turn,
            person=record.person(),
            roles=frozenset(record.roles),
            services=services,
            conversation={},
            correlation_id=record.correlation_id,
            spec=spec,
            line=record.line,
            confirmed=True,  # the turn that started the job passed every check, confirmation included
            where=TargetRef(record.cluster, record.namespace),
        )
        progress = ProgressMessage(
            turn, record.activity_id, ""
        )  # the next update edits it, whatever it shows
        await handler(JobRun(ctx, progress, dict(record.arguments), attempt, job_id))

    app_id = services.settings.microsoft_app_id or None
    await adapter_for(services, reference).continue_conversation(reference, callback, app_id)

"""Background work that outlives its turn, as jobs: what to do, for whom, and which message shows it.

A command that answers at once and keeps working (following a rollout, deleting, migrating,
k8orizing) starts a job with `CommandContext.start_job(handler, progress, **arguments)`. The job is a
`JobRecord`: the handler's kind, its JSON arguments, the command, who asked, the recorded target and
the reference of its progress message (the conversation reference and the message's activity id),
which is enough for any replica to continue the conversation and edit that same message.

One seam, `JobQueue`, two implementations: `InProcessQueue` (SQLite, one process: the turn's own
context, tracked for the drain) and `bot.jobs.durable.DurableQueue` (PostgreSQL: procrastinate; a
job whose replica dies is retried by another replica's worker, which resumes it). A handler must be
resumable: `JobRun.attempt` is 0 on the first run and counts the runs that came before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bot.identity import Person
from bot.services import ServiceKey

if TYPE_CHECKING:
    from bot.context import CommandContext, ProgressMessage


JOB_CHANNEL = "job"  # the delivery ledger's channel for a job's once-only steps (`JobRun.once`)


@dataclass
class JobRun:
    """What a job handler gets: a command context (rebuilt on another replica when resumed), the
    progress message to edit, the job's arguments, how many runs came before this one, and the
    queue's id for the job (the same in every run; empty in-process, where nothing is resumed)."""

    ctx: CommandContext
    progress: ProgressMessage
    arguments: dict[str, Any]
    attempt: int = 0
    job_id: str = ""

    @property
    def resumed(self) -> bool:
        return self.attempt > 0

    async def once(self, step: str, action: Callable[[], Awaitable[object]]) -> bool:
        """Run `action` unless a run of this job already completed `step`; whether it ran now.

        A resumed job edits its progress message again (an edit is idempotent), but a final reply
        or an audit entry must not be repeated: such a step is claimed in the delivery ledger under
        the job's id and marked done when it completes, so only a run that died inside the step
        repeats it."""
        if not self.job_id:
            await action()
            return True
        claim = await self.ctx.services.ledger.claim(JOB_CHANNEL, self.job_id, step)
        if claim is None:
            return False
        async with claim:
            await action()
        return True


JobHandler = Callable[[JobRun], Coroutine[Any, Any, None]]


class JobKinds:
    """A command family's job handlers by kind: `@jobs.kind("cluster.rollout")`. The kind is what a
    job record names, so a replica that did not start the job finds its handler."""

    def __init__(self) -> None:
        self._handlers: dict[str, JobHandler] = {}

    def kind(self, name: str) -> Callable[[JobHandler], JobHandler]:
        def register(handler: JobHandler) -> JobHandler:
            if name in self._handlers:
                raise ValueError(f"job kind {name!r} is already registered")
            self._handlers[name] = handler
            handler.job_kind = name  # type: ignore[attr-defined]
            return handler

        return register

    def include(self, *others: JobKinds) -> JobKinds:
        for other in others:
            for name, handler in other._handlers.items():
                if name in self._handlers and self._handlers[name] is not handler:
                    raise ValueError(f"job kind {name!r} is already registered")
                self._handlers[name] = handler
        return self

    def get(self, name: str) -> JobHandler | None:
        return self._handlers.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._handlers)


def kind_of(handler: JobHandler) -> str:
    """The kind a handler was registered under; a handler must be registered to run as a job."""
    name = getattr(handler, "job_kind", None)
    if not isinstance(name, str):
        raise TypeError(f"{handler!r} is not a registered job handler (JobKinds.kind)")
    return name


@dataclass(frozen=True)
class JobRecord:
    """A job as stored: everything another replica needs to run or resume it (JSON only)."""

    kind: str
    arguments: dict[str, Any]
    command: str
    line: str
    correlation_id: str
    requester: dict[str, Any]
    roles: tuple[str, ...]
    cluster: str | None
    namespace: str | None
    reference: dict[str, Any]  # the conversation reference, in Bot Framework's wire form
    activity_id: str | None  # the progress message, edited in place

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["roles"] = list(self.roles)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobRecord:
        return cls(**{**data, "roles": tuple(data.get("roles", ()))})

    def person(self) -> Person:
        data = dict(self.requester)
        data["groups"] = frozenset(data.get("groups", ()))
        return Person(**data)


def requester_of(person: Person) -> dict[str, Any]:
    data = asdict(person)
    data["groups"] = sorted(person.groups)
    return data


class JobQueue(Protocol):
    """Where jobs go. `submit` returns once the job is accepted (stored, on a durable queue)."""

    async def submit(self, record: JobRecord, run: JobRun, handler: JobHandler) -> None: ...


# The app's job queue, installed by the composition root; without one, jobs run in-process.
JOBS: ServiceKey[JobQueue] = ServiceKey("bot.jobs")

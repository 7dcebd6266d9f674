"""A k8or replica that runs only jobs, for the durable-queue tests: the real services, the real
Bot Framework adapter (replies go to a FakeChannel's serviceUrl) and `bot.jobs.durable.DurableQueue`
with short heartbeats. `python -m testing.jobs URL SCHEMA SERVICE_URL DATA_DIR` starts one in a
process of its own, submits one counting job and runs until it is killed.
"""

from __future__ import annotations

import asyncio
import base64
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

from bot.adapter import K8orAdapter, channel_authentication
from bot.app import AppParts, build_services, close_services
from bot.commands.grammar import Arguments
from bot.commands.registry import CommandRegistry, CommandSet
from bot.context import CommandContext
from bot.identity import Person
from bot.jobs import JobKinds, JobRecord, JobRun, requester_of
from bot.jobs.durable import DurableQueue
from bot.settings import Settings
from bot.wire import to_wire

commands = CommandSet()
kinds = JobKinds()
PROGRESS_ID = "progress-1"


@commands.command("count", "Counts, slowly, in one message.")
async def count(ctx: CommandContext, args: Arguments) -> None:
    """Declared so a job record can name it; the tests submit the job directly."""


@kinds.kind("demo.count")
async def count_job(run: JobRun) -> None:
    """Edit one message with each step, then say how many runs it took (a resumed run starts over)."""
    steps, pause = run.arguments["steps"], run.arguments["pause"]
    for step in range(1, steps + 1):
        await run.progress.update(f"⏳ step {step}/{steps} (run {run.attempt + 1})")
        await asyncio.sleep(pause)
    await run.progress.update(f"✓ counted to {steps} (run {run.attempt + 1})")


def count_record(service_url: str, steps: int, pause: float) -> JobRecord:
    """A counting job whose progress message is `PROGRESS_ID` in conversation `conv-1`."""
    reference = ConversationReference(
        channel_id="emulator",
        service_url=service_url,
        conversation=ConversationAccount(id="conv-1"),
        bot=ChannelAccount(id="k8or-bot", name="k8or"),
        user=ChannelAccount(id="alice", name="Alice"),
    )
    return JobRecord(
        kind="demo.count",
        arguments={"steps": steps, "pause": pause},
        command="count",
        line="count",
        correlation_id="cid-1",
        requester=requester_of(Person(key="emulator:alice", channel="emulator", user_id="alice")),
        roles=(),
        cluster=None,
        namespace=None,
        reference=to_wire(reference),
        activity_id=PROGRESS_ID,
    )


# Every replica of a test shares one vault key, as the `ha` overlay's Secret gives them: a job record
# sealed by one replica opens on another (bot.jobs.durable). A fixed key: replicas run in two processes.
VAULT_KEY = base64.urlsafe_b64encode(b"k8or testing: jobs' shared key!!").decode()


@asynccontextmanager
async def replica(
    url: str, schema: str, data_dir: Path, stalled_after: float = 2.0
) -> AsyncIterator[DurableQueue]:
    """One replica's services, adapter and running job queue (heartbeat every stalled_after / 4 s)."""
    settings = Settings(data_dir=data_dir, database_url=url, database_schema=schema, vault_key=VAULT_KEY)
    registry = CommandRegistry().include(commands)
    services = await build_services(settings, AppParts(registry=registry))
    session = aiohttp.ClientSession()
    assert services.direct is not None
    services.direct.default_adapter = K8orAdapter(
        channel_authentication(settings, lambda: session), services.metrics
    )
    queue = DurableQueue(
        services, kinds, heartbeat=stalled_after / 4, stalled_after=stalled_after, polling=0.2
    )
    try:
        async with queue.running():
            yield queue
    finally:
        await session.close()
        await close_services(services)


async def _main(url: str, schema: str, service_url: str, data_dir: str) -> None:
    async with replica(url, schema, Path(data_dir)) as queue:
        record = count_record(service_url, steps=8, pause=0.4)
        await queue.submit(record, None, count_job)  # type: ignore[arg-type]  # a stored job needs no live run
        print("submitted", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main(*sys.argv[1:5]))

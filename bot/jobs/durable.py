"""Jobs in PostgreSQL, run by procrastinate: they survive the replica that started them.

Every replica runs a procrastinate worker in the app's lifetime. Workers record a heartbeat; a job
whose worker stopped beating (its replica was killed) is *stalled*, and every replica's watch
(procrastinate's own recipe: `JobManager.get_stalled_jobs` then `retry_job`) puts it back in the
queue, where a live worker takes it and resumes it (`bot.jobs.resume`), editing the same message.
A replica that shuts down cleanly hands its running jobs back at once (`JobInterrupted`, retried).

The tables come from Alembic revision 0003 (procrastinate's schema SQL), in `K8OR_DATABASE_SCHEMA`
when it is set (the worker's connections use it as their search_path).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from cryptography.fernet import InvalidToken, MultiFernet
from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy

from bot.database_url import libpq_url
from bot.jobs import JobHandler, JobKinds, JobRecord, JobRun
from bot.jobs.resume import JobNotRunnable, run_record
from bot.services import Services
from connectors.settings import VaultSettings
from connectors.vault import load_keys

log = logging.getLogger(__name__)
TASK = "k8or.job"
QUEUE = "k8or"


class JobInterrupted(Exception):
    """The replica stopped while the job ran: it goes back to the queue for another worker."""


def conninfo(database_url: str) -> str:
    """libpq's connection string for the app's SQLAlchemy URL (`postgresql+asyncpg://…`), with libpq's
    parameter names (`sslmode`, `connect_timeout`), which psycopg requires."""
    return libpq_url(database_url)


class DurableQueue:
    """The PostgreSQL runner behind the `JobQueue` seam: procrastinate's queue, worker and retries."""

    def __init__(
        self,
        services: Services,
        kinds: JobKinds,
        *,
        concurrency: int | None = None,
        heartbeat: float | None = None,
        stalled_after: float | None = None,
        polling: float | None = None,
        keys: MultiFernet | None = None,
    ) -> None:
        """Timings default to the settings (`K8OR_JOB_CONCURRENCY`, `_HEARTBEAT`, `_STALLED_AFTER`,
        `_POLLING`); a test passes its own. Records are sealed with `keys`, by default the credential
        vault's (every replica has them: `K8OR_VAULT_KEY`)."""
        settings = services.settings
        self._services, self._kinds = services, kinds
        self.concurrency = concurrency or settings.job_concurrency
        self.heartbeat = heartbeat or settings.job_heartbeat
        self.stalled_after = stalled_after or settings.job_stalled_after
        self.polling = polling or settings.job_polling
        schema = settings.database_schema
        options = {"options": f"-c search_path={schema}"} if schema else {}
        connector = PsycopgConnector(
            conninfo=conninfo(services.db.url), kwargs=options, min_size=1, max_size=self.concurrency + 4
        )
        self.app = App(connector=connector)
        self._keys = keys or load_keys(
            VaultSettings(key=settings.vault_key, key_file=settings.vault_key_file), settings.data_dir
        )
        retry = RetryStrategy(max_attempts=1000, retry_exceptions={JobInterrupted})
        self._task = self.app.task(name=TASK, queue=QUEUE, pass_context=True, retry=retry)(self._run)

    async def submit(self, record: JobRecord, run: JobRun, handler: JobHandler) -> None:
        """Store the job, sealed; a worker (this replica's or another's) runs it from its record."""
        await self._task.defer_async(sealed=self._seal(record))

    def _seal(self, record: JobRecord) -> str:
        """The record as the queue's table holds it: Fernet ciphertext under the vault's keys. A job's
        arguments carry what a person typed (a `--env` value, a repository), its requester their
        email and groups: none of it rests in the database in plain text."""
        return self._keys.encrypt(json.dumps(record.to_json()).encode()).decode()

    def _open(self, sealed: str) -> JobRecord:
        try:
            return JobRecord.from_json(json.loads(self._keys.decrypt(sealed.encode())))
        except InvalidToken:
            raise JobNotRunnable(
                "a job record does not open with this replica's vault keys: every replica needs the "
                "same K8OR_VAULT_KEY (or K8OR_VAULT_KEY_FILE)"
            ) from None

    async def _run(self, context: JobContext, sealed: str) -> None:
        job = self._open(sealed)
        attempt = context.job.attempts if context.job else 0
        job_id = str(context.job.id) if context.job and context.job.id is not None else ""
        log.info(
            "job started",
            extra={"kind": job.kind, "correlation_id": job.correlation_id, "attempt": attempt, "job": job_id},
        )
        try:
            await run_record(self._services, self._kinds, job, attempt, job_id)
        except asyncio.CancelledError:
            raise JobInterrupted(job.kind) from None

    async def retry_stalled(self) -> int:
        """Put back in the queue every job whose worker stopped beating; how many."""
        manager, count = self.app.job_manager, 0
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=self.stalled_after):
            try:
                await manager.retry_job(job)
                count += 1
            except Exception:  # noqa: BLE001 - another replica retried it first
                log.debug("stalled job already retried", extra={"job": job.id})
        if count:
            log.warning("resumed stalled jobs", extra={"jobs": count})
        return count

    async def _watch_stalled(self) -> None:
        while True:
            try:
                await self.retry_stalled()
            except Exception:  # noqa: BLE001 - the database may be away for a moment; try again
                log.warning("stalled-job watch failed", exc_info=True)
            await asyncio.sleep(max(1.0, self.stalled_after / 3))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[DurableQueue]:
        """The queue open and this replica's worker running, for the app's lifetime."""
        async with self.app.open_async():
            worker = asyncio.create_task(self._worker(), name="k8or jobs worker")
            watch = asyncio.create_task(self._watch_stalled(), name="k8or stalled jobs")
            try:
                yield self
            finally:
                watch.cancel()
                worker.cancel()
                await asyncio.gather(watch, worker, return_exceptions=True)

    async def _worker(self) -> None:
        await self.app.run_worker_async(
            queues=[QUEUE],
            name="k8or",
            concurrency=self.concurrency,
            install_signal_handlers=False,
            shutdown_graceful_timeout=0,  # running jobs go back to the queue; another replica resumes them
            update_heartbeat_interval=self.heartbeat,
            stalled_worker_timeout=self.stalled_after,
            fetch_job_polling_interval=self.polling,
            delete_jobs="successful",
        )

"""The two runs: steady (two replicas, redeliveries) and fault (one replica SIGKILLed mid-run).

`Stage` holds what both runs share (the channel, the fake cluster, a scratch folder); each run gets
a fresh schema, fresh replicas and a fresh balancer, and tears them down after.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.ha import jobs
from bench.ha.channel import Recorder
from bench.ha.exposure import Exposure, done_marks, exposure
from bench.ha.load import LoadGenerator, LoadPlan, Tally
from bench.ha.proxy import Backend, RoundRobin
from bench.ha.replicas import Replica, base_env, drop_schema, new_schema
from bench.results import median, percentile
from testing.kube import FakeKube

KILL_AT = 0.35  # share of the turns answered when the jobs start and the replica is then killed
FREEZE_MOST = 10.0  # seconds the other replica may be held while the jobs go to the one to kill


@dataclass
class RunFigures:
    """One run's turns, counted at the channel."""

    name: str
    turns: int
    answered: int
    lost: int
    duplicated: int
    tally: Tally
    jobs: list[jobs.JobReport] = field(default_factory=list)
    audited_results: int | None = None
    resumed_by: dict[str, str] = field(default_factory=dict)  # job kind → replica that resumed it
    restart_s: float | None = None
    duplicated_ids: set[str] = field(default_factory=set)
    in_flight_at_kill: set[str] | None = None  # activities the killed replica held when it died
    answered_at_kill: int = 0  # turns answered when it was killed
    exposure: Exposure | None = None  # reply at the channel → ledger done, per turn

    @property
    def duplicates_explained(self) -> bool:
        """Every turn answered twice was one the killed replica was running when it died."""
        return self.duplicated_ids <= (self.in_flight_at_kill or set())

    @property
    def median_ms(self) -> float:
        return median(self.tally.latencies) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.tally.latencies, 95) * 1000


@dataclass
class Stage:
    """What both runs share: the channel the replicas answer to, the fake cluster, settings."""

    folder: Path
    recorder: Recorder
    service_url: str
    session: aiohttp.ClientSession
    cluster: FakeKube
    settings: dict[str, str]

    @classmethod
    @asynccontextmanager
    async def open(cls, folder: Path, settings: dict[str, str]) -> AsyncIterator[Stage]:
        recorder = Recorder()
        runner = web.AppRunner(recorder.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        cluster, kubeconfig = jobs.start_cluster(folder)
        env = {**settings, **jobs.job_settings(folder, kubeconfig)}
        connector = aiohttp.TCPConnector(limit=0)
        try:
            async with aiohttp.ClientSession(connector=connector) as session:
                yield cls(folder, recorder, f"http://127.0.0.1:{port}/", session, cluster, env)
        finally:
            cluster.stop()
            await runner.cleanup()

    @asynccontextmanager
    async def replicas(self, run: str) -> AsyncIterator[tuple[str, list[Replica], RoundRobin]]:
        """Two replicas on a fresh schema behind a fresh balancer; (schema, replicas, balancer)."""
        schema = await new_schema()
        env = base_env(schema, self.settings)
        pair = [Replica(name, self.folder / f"{run}-{name}", env) for name in ("A", "B")]
        for replica in pair:
            jobs.seed_workspace(replica.data_dir)
        proxy: RoundRobin | None = None
        try:
            await asyncio.gather(*(replica.start(self.session) for replica in pair))
            proxy = await RoundRobin([Backend(r.name, r.url) for r in pair]).start()
            yield schema, pair, proxy
        finally:
            if proxy is not None:
                await proxy.close()
            await asyncio.gather(*(asyncio.to_thread(replica.terminate) for replica in pair))
            await drop_schema(schema)

    def load(self, plan: LoadPlan, pair: list[Replica], proxy: RoundRobin) -> LoadGenerator:
        urls = {replica.name: replica.url for replica in pair}
        return LoadGenerator(plan, proxy, urls, self.recorder, self.service_url, self.session)

    async def figures(self, name: str, tally: Tally, schema: str) -> RunFigures:
        marks = await done_marks(schema)
        counts = {activity_id: self.recorder.answers[activity_id] for activity_id in tally.activity_ids}
        twice = {activity_id for activity_id, n in counts.items() if n > 1}
        return RunFigures(
            name=name,
            turns=len(counts),
            answered=sum(1 for n in counts.values() if n >= 1),
            lost=sum(1 for n in counts.values() if n == 0),
            duplicated=len(twice),
            tally=tally,
            duplicated_ids=twice,
            exposure=exposure(self.recorder, tally.activity_ids, marks, tally.seconds),
        )


async def steady_run(stage: Stage, plan: LoadPlan) -> RunFigures:
    """Run A: two replicas, the load with its redeliveries, no faults."""
    async with stage.replicas(plan.run) as (schema, pair, proxy):
        tally = await stage.load(plan, pair, proxy).run()
        await asyncio.sleep(1.0)  # replies still in flight reach the channel
        return await stage.figures("A", tally, schema)


async def fault_run(stage: Stage, plan: LoadPlan) -> RunFigures:
    """Run B: the same load; mid-run the jobs start on replica A, which is SIGKILLed mid-job and
    restarted while the load goes on; the jobs resume and finish."""
    async with stage.replicas(plan.run) as (schema, pair, proxy):
        victim, other = pair
        await jobs.say(stage.session, victim.url, stage.service_url, jobs.DEPLOY, "cluster use fake")
        generator = stage.load(plan, pair, proxy)
        load = asyncio.create_task(generator.run())
        total = plan.conversations * plan.turns
        await jobs.wait_until(lambda: generator.tally.answered >= KILL_AT * total, 300, "the load")
        commands = await _start_jobs_on(stage, schema, victim, other)
        await _k8orize_under_way(stage)
        killed_at, held = time.perf_counter(), generator.in_flight(victim.name)
        answered_at_kill = generator.tally.answered
        victim.kill()
        restart_s = await victim.start(stage.session)
        await _resume_rollout(stage, commands[jobs.DEPLOY], killed_at)
        tally = await load
        await jobs.wait_until(lambda: _both_finished(stage, commands), 300, "the resumed jobs")
        figures = await stage.figures("B", tally, schema)
        figures.in_flight_at_kill, figures.answered_at_kill = held, answered_at_kill
        figures.jobs = _reports(stage, commands, killed_at)
        figures.audited_results = await jobs.rollout_results_audited(schema)
        figures.resumed_by = _resumed_by(pair)
        figures.restart_s = restart_s
    return figures


async def _start_jobs_on(stage: Stage, schema: str, victim: Replica, other: Replica) -> dict[str, str]:
    """Start the rollout (controllers paused) and the k8orize run from chat on `victim`; hold the
    other replica (SIGSTOP) until `victim`'s worker has taken both jobs, so they run there."""
    stage.cluster.paused = True
    other.freeze()
    try:
        deploy = await jobs.say(stage.session, victim.url, stage.service_url, jobs.DEPLOY, jobs.DEPLOY_LINE)
        line = jobs.K8ORIZE_LINE
        k8orize = await jobs.say(stage.session, victim.url, stage.service_url, jobs.K8ORIZE, line)
        deadline = time.monotonic() + FREEZE_MOST
        while await jobs.running_jobs(schema) < 2:
            if time.monotonic() > deadline:
                raise TimeoutError("the jobs did not start on the replica to be killed")
            await asyncio.sleep(0.05)
    finally:
        other.thaw()
    return {jobs.DEPLOY: deploy, jobs.K8ORIZE: k8orize}


async def _k8orize_under_way(stage: Stage) -> None:
    """Until the k8orize run has edited its message: the job is running, far from its end."""

    def under_way() -> bool:
        return any(not call.created for call in stage.recorder.calls(jobs.K8ORIZE))

    await jobs.wait_until(under_way, 120, "the k8orize run to get going")


async def _resume_rollout(stage: Stage, command_id: str, killed_at: float) -> None:
    """Let the cluster's controllers run again once the follower has resumed (its first edit after
    the kill), so the resumed follower sees the rollout through."""

    def resumed() -> bool:
        report = jobs.job_report(stage.recorder, jobs.DEPLOY, command_id, killed_at, 1)
        return report.resumed_after is not None

    try:
        await jobs.wait_until(resumed, 120, "the rollout follower to resume")
    finally:
        stage.cluster.paused = False


def _reports(stage: Stage, commands: dict[str, str], killed_at: float | None) -> list[jobs.JobReport]:
    expected = {jobs.DEPLOY: 1, jobs.K8ORIZE: 2}  # the progress message (+ k8orize's result reply)
    return [
        jobs.job_report(stage.recorder, conversation, command, killed_at, expected[conversation])
        for conversation, command in commands.items()
    ]


def _both_finished(stage: Stage, commands: dict[str, str]) -> bool:
    return all(report.finished for report in _reports(stage, commands, None))


def _resumed_by(pair: list[Replica]) -> dict[str, str]:
    """Which replica ran each job again (its log says so), and whether that was after a restart."""
    found = {}
    for replica in pair:
        starts = 0
        for line in replica.log_lines():
            starts += line.get("msg") == "k8or ready"
            if line.get("msg") == "job started" and (line.get("attempt") or 0) > 0:
                found[str(line.get("kind"))] = replica.name + (" (restarted)" if starts > 1 else "")
    return found

"""bench/ha's fault run, small: two `k8or serve` processes on one PostgreSQL behind a round-robin
balancer, conversations under way, one replica SIGKILLed and restarted. No turn is lost and none is
answered twice: the killed replica's turns run again on their redelivery unless their reply had left,
and a turn whose reply left was recorded done in the same moment (bot.dedupe)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bench.ha.channel import Recorder
from bench.ha.jobs import wait_until
from bench.ha.load import LoadGenerator, LoadPlan
from bench.ha.proxy import Backend, RoundRobin
from bench.ha.replicas import Replica, base_env
from tests.support.databases import _drop, _pg_schema

pytestmark = pytest.mark.postgres
# Seconds: a dead replica's claims lapse soon, so its turns' redeliveries run quickly; a live one's,
# renewed every third of it, hold through the stalls of a busy machine (a lapsed live claim is the
# other way to run a turn twice: docs/operator/deploy.md, choosing the lease).
LEASE = "5"


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    name = await _pg_schema()
    yield name
    await _drop(name)


async def test_a_replica_killed_mid_run_loses_no_turn_and_answers_none_twice(  # type: ignore[no-untyped-def]
    tmp_path: Path, schema: str, aiohttp_server
) -> None:
    recorder = Recorder()
    service_url = str((await aiohttp_server(recorder.app())).make_url("/"))
    env = base_env(schema, {"K8OR_DELIVERY_LEASE": LEASE})
    victim, survivor = (Replica(name, tmp_path / name, env) for name in ("A", "B"))
    async with aiohttp.ClientSession() as session:
        try:
            await asyncio.gather(victim.start(session), survivor.start(session))
            proxy = await RoundRobin([Backend(r.name, r.url) for r in (victim, survivor)]).start()
            urls = {r.name: r.url for r in (victim, survivor)}
            plan = LoadPlan(conversations=10, turns=5, redeliver=0.2, run="kill")
            load = LoadGenerator(plan, proxy, urls, recorder, service_url, session)
            running = asyncio.create_task(load.run())
            await wait_until(lambda: load.tally.answered >= 15, 60, "a third of the turns")
            held = load.in_flight(victim.name)
            victim.kill()
            await victim.start(session)
            tally = await running
            await proxy.close()
        finally:
            for replica in (victim, survivor):
                replica.kill()
    answers = {activity_id: recorder.answers[activity_id] for activity_id in tally.activity_ids}
    assert held and len(answers) == 50 and tally.undelivered == 0  # it died with turns in hand
    assert [a for a, n in answers.items() if n == 0] == []  # every turn answered
    assert [a for a, n in answers.items() if n > 1] == []  # not even those it died running

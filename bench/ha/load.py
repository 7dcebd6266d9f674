"""The load: conversations of sequential turns through the balancer, redelivered as channels do.

Every activity goes to the balancer. A connection error or a 5xx answer is redelivered the way the
Bot Framework channel service retries: the same activity (same id), to the balancer again, after a
growing pause. A share of the activities is also delivered a second time at once, directly to the
replica the balancer did *not* pick (a retry racing the first delivery on another replica). A turn
counts as answered when its reply reaches the channel (`bench.ha.channel.Recorder`).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import aiohttp

from bench.ha.channel import Recorder
from bench.ha.proxy import RoundRobin

RETRY_FIRST, RETRY_MOST = 0.25, 4.0  # seconds between redeliveries of a failed POST
RETRY_FOR = 120.0  # seconds a channel keeps redelivering before it gives up on an activity
REPLY_WITHIN = 30.0  # seconds a turn waits for its reply after the POST was accepted


@dataclass(frozen=True)
class LoadPlan:
    conversations: int = 200
    turns: int = 25
    redeliver: float = 0.10  # share of activities also delivered to the other replica
    text: str = "help"
    run: str = "a"  # prefix of conversation and activity ids, unique per run


@dataclass
class Tally:
    """What the load generator did; what the channel received is the recorder's."""

    activity_ids: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # first delivery → first reply, seconds
    twins: int = 0  # activities delivered a second time, to the other replica
    retried: int = 0  # redeliveries after a connection error or a 5xx
    undelivered: int = 0  # activities still failing after RETRY_FOR
    answered: int = 0  # turns whose reply arrived (so far)
    seconds: float = 0.0


def activity(text: str, conversation: str, activity_id: str, service_url: str) -> dict:
    return {
        "type": "message",
        "id": activity_id,
        "channelId": "emulator",
        "serviceUrl": service_url,
        "from": {"id": f"user-{conversation}", "name": "bench"},
        "conversation": {"id": conversation},
        "recipient": {"id": "k8or", "name": "k8or"},
        "text": text,
    }


class LoadGenerator:
    """Runs a plan against the balancer; `tally` fills in as it goes."""

    def __init__(
        self,
        plan: LoadPlan,
        proxy: RoundRobin,
        replicas: dict[str, str],  # name → /api/messages, for the direct redeliveries
        recorder: Recorder,
        service_url: str,
        session: aiohttp.ClientSession,
    ) -> None:
        self.plan, self.proxy, self.replicas, self.recorder = plan, proxy, replicas, recorder
        self.service_url, self.session = service_url, session
        self.tally = Tally()
        self.direct_in_flight: dict[str, set[str]] = {name: set() for name in replicas}  # the twins
        self._random = random.Random(f"bench-ha-{plan.run}")  # the same activities redelivered each run

    async def run(self) -> Tally:
        started = time.perf_counter()
        await asyncio.gather(*(self._conversation(n) for n in range(self.plan.conversations)))
        self.tally.seconds = time.perf_counter() - started
        return self.tally

    async def _conversation(self, index: int) -> None:
        conversation = f"{self.plan.run}-c{index}"
        for turn in range(self.plan.turns):
            await self._turn(conversation, f"{conversation}-t{turn}")

    async def _turn(self, conversation: str, activity_id: str) -> None:
        body = activity(self.plan.text, conversation, activity_id, self.service_url)
        self.tally.activity_ids.append(activity_id)
        reply = self.recorder.expect(activity_id)
        twin = self._random.random() < self.plan.redeliver
        route = self.proxy.route(activity_id) if twin else None
        sent = time.perf_counter()
        deliveries = [self._deliver(body)]
        if route is not None:
            deliveries.append(self._twin(body, route))
        await asyncio.gather(*deliveries)
        try:
            arrived = await asyncio.wait_for(reply, REPLY_WITHIN)
        except TimeoutError:
            return  # lost: the recorder has no answer for it
        self.tally.latencies.append(arrived - sent)
        self.tally.answered += 1

    async def _deliver(self, body: dict) -> None:
        """POST to the balancer until it is accepted, redelivering after errors as channels do."""
        pause, deadline = RETRY_FIRST, time.monotonic() + RETRY_FOR
        while True:
            try:
                async with self.session.post(self.proxy.url, json=body) as answer:
                    await answer.read()
                    if answer.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                self.tally.undelivered += 1
                return
            self.tally.retried += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MOST)

    async def _twin(self, body: dict, route: asyncio.Future[str]) -> None:
        """The same activity, straight to the replica the balancer did not choose; once."""
        try:
            chosen = await asyncio.wait_for(route, 10)
        except TimeoutError:
            return
        other = next((name for name in self.replicas if name != chosen), None)
        if other is None:
            return
        self.tally.twins += 1
        self.direct_in_flight[other].add(body["id"])
        try:
            async with self.session.post(self.replicas[other], json=body) as answer:
                await answer.read()
        except aiohttp.ClientError:
            pass  # that replica is down: the first delivery (and its redeliveries) still count
        finally:
            self.direct_in_flight[other].discard(body["id"])

    def in_flight(self, name: str) -> set[str]:
        """Activities the replica `name` holds now, through the balancer or directly."""
        return self.proxy.in_flight(name) | self.direct_in_flight.get(name, set())

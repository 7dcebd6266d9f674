"""Benchmark on-call alerts: from a pod entering CrashLoopBackOff to the alert at the channel, and a
burst of apps crash-looping at once, with one and with two replicas on one database.

Each replica is an AlertDesk as the app runs it (k8or.alerting) over its own services and the same
database, watching the fake API server through the real kubernetes client; proactive messages land
in one recording channel that notes when each arrives. The bench's own pod watch notes when each
app's pod first shows CrashLoopBackOff; the latency is the alert's arrival minus that moment.

Targets (issue 13): p50 ≤ 2 s, p99 ≤ 5 s; 50 apps at once: at most one message per app, 0 duplicates,
0 lost when the leader is killed mid-stream. Two replicas elect one watcher with a Lease on the fake
API server (cluster.leader, the kubernetes client's leader election) as they do in a pod; the
failover run kills the leader (election and watches stopped without handing over) after its first
alert.

Run from the repository root: `.venv/bin/python -m bench.notify [--rounds N] [--apps N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import threading
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ResourceResponse

import dialogs.notify
from actions.alert_leaders import Elect
from actions.alerting import AlertDesk
from bench.results import median, percentile, record
from bot.alert_store import Subscription
from cluster.deploy import deploy
from cluster.incidents import EVENT_KINDS
from cluster.leader import ElectionTiming, LeaseElection
from cluster.target import ClusterTarget, from_kubeconfig
from cluster.watch import WATCH_SLICE, ResourceWatch
from dialogs.cluster_targets import CLUSTERS, ClusterDirectory
from k8or.alerting import alert_desk
from testing.chat.turns import RecordingAdapter, TurnHarness
from testing.kube import FakeKube
from testing.kube.fixture import standard_cluster

COMMAND = ".venv/bin/python -m bench.notify"
P50_S, P99_S = 2.0, 5.0
REFERENCE = {
    "channelId": "webchat",
    "serviceUrl": "https://smba.example/",
    "conversation": {"id": "bench"},
    "bot": {"id": "k8or"},
}
CRASHING = "registry.example.com/crashloop:1"
TIMING = ElectionTiming(lease_duration=5, renew_deadline=3, retry_period=1)


class TimedChannel(RecordingAdapter):
    """The recording channel, noting when each message arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, float] = {}

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        responses = await super().send_activities(context, activities)
        for response in responses:
            self.arrived[response.id] = time.monotonic()
        return responses

    def alerts_for(self, app: str) -> list[float]:
        """Arrival times of the alert messages about `app`."""
        return [
            self.arrived[i]
            for i in self.order
            if (text := self.messages[i].text or "").startswith("🚨") and f"**{app}**" in text
        ]


class CrashSeen:
    """The bench's own pod watch: when each app's pod first showed CrashLoopBackOff."""

    def __init__(self, target: ClusterTarget) -> None:
        self.first: dict[str, float] = {}
        self.watch = ResourceWatch(target, "pods", self._sink)
        self.thread = threading.Thread(target=self.watch.run, daemon=True)

    def _sink(self, _kind: str, _type: str, pods: list[dict[str, Any]]) -> None:
        now = time.monotonic()
        for pod in pods:
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            if any(
                (s.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
                for s in statuses
            ):
                app = pod["metadata"]["name"].rsplit("-", 2)[0]
                self.first.setdefault(app, now)


def _cluster() -> FakeKube:
    """The fake cluster, with the `k8or` namespace the election's Leases live in."""
    fake = standard_cluster()
    fake.add_namespace("k8or")
    return fake


def _lease_elections(kubeconfig: Path, n: int) -> Elect:
    """Replica n's candidacies: Leases in the fake's `k8or` namespace."""
    home = from_kubeconfig(str(kubeconfig), "fake", "k8or")
    return lambda cluster: LeaseElection(home, f"k8or-notify-{cluster}", f"replica-{n}", TIMING)


async def _replicas(
    stack: AsyncExitStack,
    scratch: Path,
    kubeconfig: Path,
    count: int,
    channel: TimedChannel,
) -> list[AlertDesk]:
    """`count` alert desks on one database; two or more elect one watcher, as replicas do."""
    url = f"sqlite+aiosqlite:///{scratch / 'k8or.db'}"
    desks = []
    for n in range(count):
        harness = await stack.enter_async_context(
            TurnHarness.open(scratch / f"replica-{n}", [dialogs.notify.commands], database_url=url)
        )
        harness.services.capabilities[CLUSTERS] = ClusterDirectory(kubeconfig=str(kubeconfig))
        assert harness.services.direct is not None
        harness.services.direct.default_adapter = channel
        elections = _lease_elections(kubeconfig, n) if count > 1 else None
        desk = await alert_desk(harness.services, elections).start()
        stack.push_async_callback(desk.stop, WATCH_SLICE + 1)
        desks.append(desk)
    sub = Subscription(
        "", "webchat|bench", REFERENCE, "fake", "default", frozenset(EVENT_KINDS), frozenset(), "bench"
    )
    await desks[0].store.subscribe(sub)
    for desk in desks:
        await desk.refresh()
    if not await _until(lambda: any(d.leaders.leads("fake") for d in desks), 30):
        raise RuntimeError("no replica became the leader in 30 s (is the Lease namespace there?)")
    return desks


async def _until(check: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.01)
    return False


async def latency(replicas: int, rounds: int) -> list[float]:
    """Seconds from CrashLoopBackOff to the alert, one app crash-looping at a time."""
    fake = _cluster()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            kubeconfig = fake.write_kubeconfig(Path(scratch) / "kubeconfig")
            target = from_kubeconfig(str(kubeconfig), "fake")
            seen, channel = CrashSeen(target), TimedChannel()
            seen.thread.start()
            async with AsyncExitStack() as stack:
                await _replicas(stack, Path(scratch), kubeconfig, replicas, channel)
                await asyncio.sleep(1.0)  # the watches have listed
                figures = []
                for n in range(rounds):
                    app = f"lat-{n}"
                    await asyncio.to_thread(deploy, target, app, CRASHING, 1)
                    if await _until(lambda a=app: channel.alerts_for(a) and a in seen.first, 30):
                        figures.append(channel.alerts_for(app)[0] - seen.first[app])
            seen.watch.stop.set()
            seen.thread.join(WATCH_SLICE + 1)
            return figures
    finally:
        fake.stop()


async def burst(replicas: int, apps: int) -> dict[str, int]:
    """`apps` apps crash-looping at once: messages per app, duplicates, apps never alerted."""
    fake = _cluster()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            kubeconfig = fake.write_kubeconfig(Path(scratch) / "kubeconfig")
            target = from_kubeconfig(str(kubeconfig), "fake")
            channel = TimedChannel()
            async with AsyncExitStack() as stack:
                await _replicas(stack, Path(scratch), kubeconfig, replicas, channel)
                await asyncio.sleep(1.0)
                names = [f"burst-{n}" for n in range(apps)]
                await asyncio.gather(*(asyncio.to_thread(deploy, target, a, CRASHING, 1) for a in names))
                await _until(lambda: all(channel.alerts_for(a) for a in names), 60)
                await asyncio.sleep(3.0)  # room for a late duplicate to show
                counts = [len(channel.alerts_for(a)) for a in names]
                for app, count in zip(names, counts, strict=True):
                    if count > 1:  # say what the duplicates were, on the console only
                        texts = [m.text for m in channel.messages.values() if f"**{app}**" in (m.text or "")]
                        print(f"{app}: {count} messages: {texts}")
            return _tally(channel, names)
    finally:
        fake.stop()


def _tally(channel: TimedChannel, names: list[str]) -> dict[str, int]:
    counts = [len(channel.alerts_for(a)) for a in names]
    return {
        "max_per_app": max(counts),
        "duplicates": sum(max(c - 1, 0) for c in counts),
        "missing": sum(1 for c in counts if c == 0),
        "messages": sum(counts),
    }


async def failover(apps: int) -> dict[str, float]:
    """`apps` apps crash-looping at once, two replicas electing one watcher; the leader killed after
    its first alert. Messages per app, duplicates, lost; seconds to the new leader and to the last alert."""
    fake = _cluster()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            kubeconfig = fake.write_kubeconfig(Path(scratch) / "kubeconfig")
            target = from_kubeconfig(str(kubeconfig), "fake")
            channel = TimedChannel()
            async with AsyncExitStack() as stack:
                desks = await _replicas(stack, Path(scratch), kubeconfig, 2, channel)
                leader, other = sorted(desks, key=lambda d: not d.leaders.leads("fake"))
                await asyncio.sleep(1.0)
                names = [f"burst-{n}" for n in range(apps)]
                await asyncio.gather(*(asyncio.to_thread(deploy, target, a, CRASHING, 1) for a in names))
                await _until(lambda: any(channel.alerts_for(a) for a in names), 60)
                await leader.stop(release=False)  # killed mid-stream
                killed, before = time.monotonic(), leader.sent
                await _until(lambda: other.leaders.leads("fake"), 60)
                took_over = time.monotonic() - killed
                await _until(lambda: all(channel.alerts_for(a) for a in names), 60)
                last = max(channel.alerts_for(a)[0] for a in names if channel.alerts_for(a)) - killed
                await asyncio.sleep(3.0)  # room for a late duplicate to show
                tally = _tally(channel, names)
            return {**tally, "takeover_s": took_over, "last_alert_s": last, "before": before}
    finally:
        fake.stop()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


async def run(rounds: int, apps: int) -> tuple[str, bool]:
    one, two = await latency(1, rounds), await latency(2, rounds)
    burst_two = await burst(2, apps)
    fail = await failover(apps)
    ok = (
        percentile(two, 50) <= P50_S
        and percentile(two, 99) <= P99_S
        and burst_two["max_per_app"] <= 1
        and burst_two["duplicates"] == 0
        and burst_two["missing"] == 0
        and len(two) == rounds
        and fail["max_per_app"] <= 1
        and fail["duplicates"] == 0
        and fail["missing"] == 0
    )
    body = f"""
From a pod entering CrashLoopBackOff (seen by the bench's own pod watch) to the alert reaching the
channel; {rounds} apps, one at a time, on the fake API server (speed 600×) with the real kubernetes
client; alert desks as the app runs them (k8or.alerting) on one SQLite database. Two replicas elect
one watcher with a Lease in the fake's `k8or` namespace, as they do in a pod.

| figure | 1 replica (baseline) | 2 replicas | target |
|---|---|---|---|
| p50 | {_ms(median(one))} | {_ms(median(two))} | ≤ 2 s {"✓" if percentile(two, 50) <= P50_S else "✗"} |
| p99 | {_ms(percentile(one, 99))} | {_ms(percentile(two, 99))} | ≤ 5 s {"✓" if percentile(two, 99) <= P99_S else "✗"} |
| alerts received | {len(one)}/{rounds} | {len(two)}/{rounds} | all |

{apps} apps crash-looping at once in one namespace, two replicas: {burst_two["messages"]} alert messages,
at most {burst_two["max_per_app"]} per app, {burst_two["duplicates"]} duplicates, {burst_two["missing"]} apps
never alerted.

Leader killed mid-stream: {apps} apps crash-looping at once, two replicas electing one watcher with a
Lease (lease {TIMING.lease_duration} s, renew deadline {TIMING.renew_deadline:.0f} s, retry
{TIMING.retry_period:.0f} s), the leader's election and watches stopped without handing over after its
first alert ({fail["before"]:.0f} sent by then). The other replica led {fail["takeover_s"]:.1f} s after
the kill; the last alert arrived {fail["last_alert_s"]:.1f} s after it. {fail["messages"]:.0f} alert
messages, at most {fail["max_per_app"]:.0f} per app, {fail["duplicates"]:.0f} duplicates,
{fail["missing"]:.0f} lost (targets: ≤ 1, 0, 0).

Result: {"targets met" if ok else "target missed"}.
"""
    return body, ok


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.notify")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--apps", type=int, default=50)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    body, ok = asyncio.run(run(args.rounds, args.apps))
    record("notify", body, f"{COMMAND} --rounds {args.rounds} --apps {args.apps}")
    print(body)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

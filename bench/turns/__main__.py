"""bench/turns: k8or's full pipeline answering `help` against botbuilder's stock echo bot.

Both bots run as separate processes on loopback. A load generator posts activities to
/api/messages with `serviceUrl` pointing at a local recorder, and a turn counts as done when its
reply has reached the recorder. Figures per bot:
  - throughput with 20 concurrent conversations (turns/s),
  - single-user latency p50/p95 (one conversation, one message at a time),
  - start-up time (spawn to first successful /healthz) and idle RSS after start-up, from `--starts`
    cold starts of each bot, interleaved (a start takes well under a second, so many are cheap and
    the median holds still on a noisy machine).
Each measurement is repeated and the median is reported, with k8or/echo ratios against targets:
throughput >= 10x the echo bot, single-user p50 <= 1/4 of the echo bot's, start-up and idle RSS
<= 1.5x the echo bot's.

Run: python -m bench.turns [--rounds 3] [--turns 1500] [--starts 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.results import median, percentile, record

ROOT = Path(__file__).resolve().parents[2]
CONCURRENCY = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Recorder:
    """The channel's side: replies arrive here; each resolves the waiter for its conversation."""

    waiters: dict[str, asyncio.Future] = field(default_factory=dict)
    received: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conv}/activities/{id}", self._reply)
        app.router.add_post("/v3/conversations/{conv}/activities", self._reply)
        return app

    async def _reply(self, request: web.Request) -> web.Response:
        await request.read()
        self.received += 1
        waiter = self.waiters.pop(request.match_info["conv"], None)
        if waiter and not waiter.done():
            waiter.set_result(time.perf_counter())
        return web.json_response({"id": uuid.uuid4().hex})


@dataclass
class BotProcess:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    proc: subprocess.Popen | None = None
    startup_s: float = 0.0

    async def start(self, session: aiohttp.ClientSession) -> None:
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=open(self.env.get("BENCH_LOG", os.devnull), "ab"),
        )
        url = f"http://127.0.0.1:{self.port}/healthz"
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.01)
        self.startup_s = time.perf_counter() - started

    def rss_mib(self) -> float:
        assert self.proc
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def warm_start(bot: BotProcess, session: aiohttp.ClientSession) -> None:
    """One unmeasured start, which writes the bytecode every measured start then reads."""
    await bot.start(session)
    bot.stop()


def activity(text: str, conv: str, service_url: str) -> dict:
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "emulator",
        "serviceUrl": service_url,
        "from": {"id": f"user-{conv}", "name": "bench"},
        "conversation": {"id": conv},
        "recipient": {"id": "bot"},
        "text": text,
    }


async def one_turn(session, bot_url, recorder: Recorder, conv: str, text: str, service_url: str) -> float:
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    recorder.waiters[conv] = waiter
    sent = time.perf_counter()
    async with session.post(bot_url, json=activity(text, conv, service_url)) as response:
        await response.read()
        if response.status >= 300:
            raise RuntimeError(f"bot answered {response.status}")
    arrived = await asyncio.wait_for(waiter, 30)
    return arrived - sent


async def throughput(session, bot_url, recorder, service_url, text, turns) -> float:
    per_conv = max(1, turns // CONCURRENCY)

    async def conversation(i: int) -> None:
        conv = f"tp-{uuid.uuid4().hex[:8]}-{i}"
        for _ in range(per_conv):
            await one_turn(session, bot_url, recorder, conv, text, service_url)

    started = time.perf_counter()
    await asyncio.gather(*(conversation(i) for i in range(CONCURRENCY)))
    return per_conv * CONCURRENCY / (time.perf_counter() - started)


async def latency(session, bot_url, recorder, service_url, text, turns) -> list[float]:
    conv = f"lat-{uuid.uuid4().hex[:8]}"
    return [await one_turn(session, bot_url, recorder, conv, text, service_url) for _ in range(turns)]


def new_figures() -> dict[str, list[float]]:
    return {"tps": [], "p50": [], "p95": [], "startup": [], "rss": []}


async def measure_start(bot: BotProcess, figures, session) -> None:
    """One cold start: spawn to the first /healthz 200, and the RSS 0.5 s after it."""
    await bot.start(session)
    try:
        await asyncio.sleep(0.5)
        figures["startup"].append(bot.startup_s)
        figures["rss"].append(bot.rss_mib())
    finally:
        bot.stop()


async def measure_round(bot: BotProcess, text: str, turns: int, figures, recorder, service_url, session):
    """One round for one bot: start it, measure latency then throughput, stop it."""
    await bot.start(session)
    try:
        await asyncio.sleep(0.5)
        bot_url = f"http://127.0.0.1:{bot.port}/api/messages"
        await latency(session, bot_url, recorder, service_url, text, 10)  # warm-up
        samples = await latency(session, bot_url, recorder, service_url, text, max(50, turns // 10))
        figures["p50"].append(percentile(samples, 50) * 1000)
        figures["p95"].append(percentile(samples, 95) * 1000)
        figures["tps"].append(await throughput(session, bot_url, recorder, service_url, text, turns))
    finally:
        bot.stop()


async def main(rounds: int, turns: int, echo_turns: int, starts: int) -> int:
    recorder = Recorder()
    runner = web.AppRunner(recorder.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    service_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"  # type: ignore[union-attr]
    data = Path(tempfile.mkdtemp(prefix="k8or-bench-"))
    python = sys.executable
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8OR_", "Microsoft"))}
    # Both bots start as installed code does: from cached bytecode (an installed package ships it), kept
    # in a scratch prefix so the work tree stays clean, and filled by one unmeasured start of each bot.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(data / "pycache")
    k8or_env = {
        **env,
        "K8OR_DATA_DIR": str(data),
        "K8OR_LOG_FORMAT": "json",
        "K8OR_LOG_LEVEL": "INFO",
        "BENCH_LOG": str(data / "k8or.log"),
    }
    k8or_port, echo_port, bare_port = free_port(), free_port(), free_port()
    k8or = BotProcess("k8or", [python, "-m", "k8or", "serve", "--port", str(k8or_port)], k8or_env, k8or_port)
    echo = BotProcess("echo", [python, "-m", "bench.turns.echo_bot", str(echo_port)], env, echo_port)
    bare = BotProcess("bare", [python, "-m", "bench.turns.bare", str(bare_port)], env, bare_port)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY * 2)
    echo_runs, k8or_runs, bare_runs = new_figures(), new_figures(), new_figures()
    paired: list[float] = []  # k8or's start-up over the echo bot's, start by start
    async with aiohttp.ClientSession(connector=connector) as session:
        for bot in (echo, k8or, bare):
            await warm_start(bot, session)
        # Interleaved, so that a change in the machine's load falls on both bots alike.
        for _ in range(starts):
            await measure_start(echo, echo_runs, session)
            await measure_start(k8or, k8or_runs, session)
            # Each pair starts back to back, so a change in the machine's speed falls on both alike.
            paired.append(k8or_runs["startup"][-1] / echo_runs["startup"][-1])
        for _ in range(rounds):
            await measure_round(echo, "hello", echo_turns, echo_runs, recorder, service_url, session)
            await measure_round(k8or, "help", turns, k8or_runs, recorder, service_url, session)
            await measure_round(bare, "hello", turns, bare_runs, recorder, service_url, session)
    echo_figures = {k: median(v) for k, v in echo_runs.items()}
    k8or_figures = {k: median(v) for k, v in k8or_runs.items()}
    bare_figures = {k: median(v) for k, v in bare_runs.items() if v}  # the bare handler: turns only
    await runner.cleanup()
    tps_ratio = k8or_figures["tps"] / echo_figures["tps"]
    p50_ratio = k8or_figures["p50"] / echo_figures["p50"]
    start_ratio = median(paired)
    rss_ratio = k8or_figures["rss"] / echo_figures["rss"]
    ok = tps_ratio >= 10 and p50_ratio <= 0.25 and start_ratio <= 1.5 and rss_ratio <= 1.5
    body = f"""
k8or answers `help` through the full pipeline (CloudAdapter, dedupe, state load/save in SQLite,
metrics, one JSON log line per turn); the baseline is botbuilder's stock echo bot. {rounds} rounds,
medians. Throughput: {CONCURRENCY} concurrent conversations; latency: one conversation, sequential,
measured from POST to the reply reaching the local serviceUrl. Start-up is spawn to the first
/healthz 200, from cached bytecode (one unmeasured start of each bot first), median of {starts}
cold starts of each bot in back-to-back pairs, and its ratio is the median of the {starts} pairs' ratios
(this machine's speed drifts over seconds; a pair shares it); idle RSS is read 0.5 s after that answer
(k8or on SQLite, with the data directory its first start made).

| figure | stock echo bot | k8or `help` | ratio | target |
|---|---|---|---|---|
| throughput, {CONCURRENCY} conversations | {echo_figures["tps"]:.0f} turns/s | {k8or_figures["tps"]:.0f} turns/s | {tps_ratio:.1f}× | ≥ 10× {"✓" if tps_ratio >= 10 else "✗"} |
| single-user latency p50 | {echo_figures["p50"]:.1f} ms | {k8or_figures["p50"]:.1f} ms | {p50_ratio:.2f} | ≤ 0.25 {"✓" if p50_ratio <= 0.25 else "✗"} |
| single-user latency p95 | {echo_figures["p95"]:.1f} ms | {k8or_figures["p95"]:.1f} ms | {k8or_figures["p95"] / echo_figures["p95"]:.2f} | — |
| start-up (spawn → /healthz 200) | {echo_figures["startup"] * 1000:.0f} ms | {k8or_figures["startup"] * 1000:.0f} ms | {start_ratio:.2f} (paired; {min(paired):.2f}–{max(paired):.2f}) | ≤ 1.5 {"✓" if start_ratio <= 1.5 else "✗"} |
| idle RSS after start-up | {echo_figures["rss"]:.0f} MiB | {k8or_figures["rss"]:.0f} MiB | {rss_ratio:.2f} | ≤ 1.5 {"✓" if rss_ratio <= 1.5 else "✗"} |

For scale, the same load generator against a bare aiohttp handler that parses the activity and
posts one reply (the ceiling for any bot on this machine): {bare_figures["tps"]:.0f} turns/s,
p50 {bare_figures["p50"]:.1f} ms. k8or reaches {k8or_figures["tps"] / bare_figures["tps"]:.0%} of that ceiling.

Result: {"targets met" if ok else "TARGET MISSED"}.
"""
    record("turns", body, f"python -m bench.turns --rounds {rounds} --turns {turns} --starts {starts}")
    print(body)
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--turns", type=int, default=1500)
    parser.add_argument("--echo-turns", type=int, default=200)
    parser.add_argument("--starts", type=int, default=15, help="cold starts of each bot for start-up and RSS")
    args = parser.parse_args()
    if args.starts < 1 or args.rounds < 1:
        parser.error("--starts and --rounds need at least 1")
    sys.exit(asyncio.run(main(args.rounds, args.turns, args.echo_turns, args.starts)))

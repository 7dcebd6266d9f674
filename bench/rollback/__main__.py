"""Benchmark `rollback`: from the chat message to the rollback patch reaching the API server.

A whole bot turn (the real pipeline: dedupe, state, parse, RBAC, audit) runs `rollback web
--to-revision N` against the fake Kubernetes API server; the time is taken from the moment the
message enters the bot to the moment the JSON patch arrives at the server. The baseline is the same
rollback called straight on the library (no bot), so the table shows what the turn adds.
Target: bot-side p50 at most 150 ms.

Run from the repository root: `.venv/bin/python -m bench.rollback [--rounds N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

import dialogs.cluster
from bench.results import median, percentile, record
from cluster.deploy import deploy
from cluster.rollback import list_revisions, rollback
from cluster.rollout import RolloutWatcher
from cluster.target import ClusterTarget, from_kubeconfig
from dialogs.cluster_targets import CLUSTERS, ClusterDirectory
from policy.audit import AuditLog
from policy.rbac import policy_from_dict
from testing.chat.turns import TurnHarness
from testing.kube.fixture import standard_cluster

TARGET_MS = 150.0
COMMAND = ".venv/bin/python -m bench.rollback"
POLICY = {"roles": {"deployer": {"users": ["oncall-person"]}}}


def _other_revision(target: ClusterTarget) -> int:
    return min(r.number for r in list_revisions(target, "web") if not r.current)


def _wait_complete(target: ClusterTarget) -> None:
    last = list(RolloutWatcher(target, "web", timeout=30))[-1]
    assert last.state == "complete", last.line


def _patch_time(fake, since: float) -> float:
    patches = [r.at for r in fake.api_requests() if r.verb == "patch" and r.at >= since]
    assert len(patches) == 1, f"expected one patch, saw {len(patches)}"
    return patches[0]


async def _bot_round(bot: TurnHarness, fake, target: ClusterTarget) -> float:
    revision = await asyncio.to_thread(_other_revision, target)
    started = time.perf_counter()
    await bot.say(f"rollback web --to-revision {revision}", user="oncall-person", channel="console")
    reached = _patch_time(fake, started)
    await bot.settle()
    await asyncio.to_thread(_wait_complete, target)
    return reached - started


def _library_round(fake, target: ClusterTarget) -> float:
    revision = _other_revision(target)
    started = time.perf_counter()
    rollback(target, "web", revision)
    reached = _patch_time(fake, started)
    _wait_complete(target)
    return reached - started


async def run(rounds: int, warmup: int = 3) -> tuple[str, bool]:
    """Run both sides; the Markdown body for RESULTS.md and whether the target was met."""
    fake = standard_cluster()
    with tempfile.TemporaryDirectory() as scratch:
        kubeconfig = fake.write_kubeconfig(Path(scratch) / "kubeconfig")
        target = from_kubeconfig(str(kubeconfig), "fake")
        for image in ("nginx:1.26", "nginx:1.27"):
            deploy(target, "web", image, replicas=2)
            _wait_complete(target)
        library = [_library_round(fake, target) for _ in range(warmup + rounds)][warmup:]
        policy = policy_from_dict(POLICY)
        async with TurnHarness.open(Path(scratch), [dialogs.cluster.commands], roles=policy) as bot:
            bot.services.audit = AuditLog(bot.services.db)
            bot.services.capabilities[CLUSTERS] = ClusterDirectory(
                kubeconfig=str(kubeconfig), rollout_timeout=30
            )
            await bot.say("cluster use fake", user="oncall-person", channel="console")
            turns = [await _bot_round(bot, fake, target) for _ in range(warmup + rounds)][warmup:]
    fake.stop()
    return _table(library, turns, rounds), median(turns) * 1000 <= TARGET_MS


def _table(library: list[float], turns: list[float], rounds: int) -> str:
    ms = lambda v: f"{v * 1000:.1f} ms"  # noqa: E731
    met = median(turns) * 1000 <= TARGET_MS
    mark = "✓" if met else "✗"
    return "\n".join(
        [
            "`rollback web --to-revision N` against the fake API server (real HTTP, strict validation);",
            f"{rounds} rounds after 3 warm-up rounds, each waiting for the rollout to finish before the",
            "next. Time from the message entering the bot (or the library call) to the JSON patch reaching",
            "the server.",
            "",
            "| figure | library call (baseline) | whole bot turn | target |",
            "|---|---|---|---|",
            f"| p50 | {ms(median(library))} | {ms(median(turns))} | ≤ {TARGET_MS:.0f} ms {mark} |",
            f"| p90 | {ms(percentile(library, 90))} | {ms(percentile(turns, 90))} | — |",
            f"| max | {ms(max(library))} | {ms(max(turns))} | — |",
            "",
            f"Result: {'target met' if met else 'TARGET MISSED'}.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    body, met = asyncio.run(run(args.rounds))
    record("rollback", body, f"{COMMAND} --rounds {args.rounds}")
    print(body)
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()

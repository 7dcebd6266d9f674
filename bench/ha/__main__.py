"""bench/ha: two k8or replicas on one PostgreSQL behind a round-robin balancer, under load and faults.

Run A: 200 conversations × 25 turns of `help`, 10% of the activities also delivered at once to the
replica the balancer did not pick. Run B: the same load; mid-run a rollout follower and a k8orize run
start on replica A from chat, A is SIGKILLed mid-job and restarted, and the jobs resume. Every reply
is counted at the channel by the activity it answers: lost (none) and duplicated (more than one).
Each job's messages are counted there too: one progress message, edited, never a second one.

Needs PostgreSQL on 127.0.0.1:5432 (database `test`, trust auth); strace for the k8orize run.
Run: python -m bench.ha [--conversations 200] [--turns 25]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from bench.ha.load import LoadPlan
from bench.ha.report import body, targets_met
from bench.ha.runs import Stage, fault_run, steady_run
from bench.results import record

# Job timings for the bench (the defaults are 10 s and 30 s): a killed replica's jobs resume within
# about 10-15 s instead of 30-40 s, so the run stays short. The delivery lease keeps its default.
SETTINGS = {"K8OR_JOB_HEARTBEAT": "2", "K8OR_JOB_STALLED_AFTER": "10"}


async def main(conversations: int, turns: int, redeliver: float) -> int:
    folder = Path(tempfile.mkdtemp(prefix="k8or-bench-ha-"))
    try:
        async with Stage.open(folder, SETTINGS) as stage:
            steady = await steady_run(stage, LoadPlan(conversations, turns, redeliver, run="a"))
            fault = await fault_run(stage, LoadPlan(conversations, turns, redeliver, run="b"))
    except BaseException:
        print(f"bench/ha failed; replica logs kept in {folder}", file=sys.stderr)
        raise
    met = targets_met(steady, fault)
    if met:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"bench/ha missed a target; replica logs kept in {folder}", file=sys.stderr)
    text = body(steady, fault, SETTINGS)
    command = f"python -m bench.ha --conversations {conversations} --turns {turns}"
    command += f" --redeliver {redeliver}" if redeliver != 0.10 else ""
    record("ha", text, command)
    print(text)
    return 0 if met else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--turns", type=int, default=25)
    parser.add_argument(
        "--redeliver", type=float, default=0.10, help="share redelivered to the other replica"
    )
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.conversations, args.turns, args.redeliver)))

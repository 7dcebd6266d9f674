"""bench/ha's section of bench/RESULTS.md: the two runs side by side, then the resumed jobs."""

from __future__ import annotations

from bench.ha.exposure import Exposure
from bench.ha.jobs import JobReport
from bench.ha.runs import RunFigures

JOB_NAMES = {
    "deploy": "rollout follower (`deploy web nginx:1.27`)",
    "k8orize": "k8orize run (`k8orize shop --run …`)",
}


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def targets_met(steady: RunFigures, fault: RunFigures) -> bool:
    turns = all(run.lost == 0 and run.duplicated == 0 for run in (steady, fault))
    jobs = bool(fault.jobs) and all(job.finished and job.one_progress_message for job in fault.jobs)
    return turns and jobs and fault.audited_results == 1


def _turn_rows(a: RunFigures, b: RunFigures) -> list[str]:
    return [
        "| figure | run A: two replicas | run B: replica A SIGKILLed mid-run, restarted | target |",
        "|---|---|---|---|",
        f"| turns sent | {a.turns} | {b.turns} | — |",
        f"| answered | {a.answered} | {b.answered} | all |",
        f"| lost (no reply) | {a.lost} | {b.lost} | 0 {_mark(a.lost == b.lost == 0)} |",
        f"| duplicated (two or more replies) | {a.duplicated} | {b.duplicated} | "
        f"0 {_mark(a.duplicated == b.duplicated == 0)} |",
        f"| turns answered when replica A was killed | — | {b.answered_at_kill} | — |",
        f"| held by the killed replica when it died (no answer yet) | — | {len(b.in_flight_at_kill or ())} "
        "| — |",
        f"| redelivered at once to the other replica | {a.tally.twins} | {b.tally.twins} | — |",
        f"| redelivered after a 502 or a dropped connection | {a.tally.retried} | {b.tally.retried} | — |",
        f"| median turn latency (first delivery → reply) | {a.median_ms:.0f} ms | {b.median_ms:.0f} ms | — |",
        f"| p95 turn latency | {a.p95_ms:.0f} ms | {b.p95_ms:.0f} ms | — |",
        f"| wall time of the load | {a.tally.seconds:.1f} s | {b.tally.seconds:.1f} s | — |",
        *_exposure_rows(a.exposure, b.exposure),
    ]


def _exposure_rows(a: Exposure | None, b: Exposure | None) -> list[str]:
    if a is None or b is None:
        return []
    return [
        f"| turns marked done before the channel counted their reply | {a.marked_first} of {len(a.windows)} "
        f"| {b.marked_first} of {len(b.windows)} | — |",
        f"| duplicate window (reply counted → turn recorded done), median | {a.median_ms:.1f} ms "
        f"| {b.median_ms:.1f} ms | — |",
        f"| duplicate window, p99 | {a.p99_ms:.1f} ms | {b.p99_ms:.1f} ms | — |",
        f"| turns a SIGKILL at a random moment would answer twice (expected) | {a.expected_duplicates:.2f} "
        f"| {b.expected_duplicates:.2f} | — |",
    ]


def _duplicates_note(a: RunFigures, b: RunFigures) -> str:
    held = len(b.in_flight_at_kill or ())
    mechanism = (
        "A turn's done-mark leaves in the step in which its last reply is handed to the network, before "
        "the channel can have read it (bot.dedupe), so a redelivery runs again only a turn whose reply "
        "had not left; see docs/operator/high-availability.md."
    )
    steady = (
        f"Run A answered {a.duplicated} turns twice with no replica killed: "
        f"{', '.join(sorted(a.duplicated_ids)[:10])}. "
        if a.duplicated
        else ""
    )
    if not b.duplicated:
        killed = f"the killed replica held {held} turns when it died"
        return f"{steady}In run B no turn was answered twice; {killed}. {mechanism}"
    where = "all of them" if b.duplicates_explained else "NOT all of them"
    return (
        f"{steady}In run B {b.duplicated} turns were answered twice, {where} among the {held} the killed "
        f"replica held when it died. {mechanism}"
    )


def _job_row(job: JobReport, resumed_by: dict[str, str]) -> str:
    kind = "cluster.follow" if job.name == "deploy" else "k8orize.folder"
    resumed = f"{job.resumed_after:.1f} s" if job.resumed_after is not None else "not resumed"
    final = job.final.splitlines()[0] if job.final else "(none)"
    return (
        f"| {JOB_NAMES.get(job.name, job.name)} | {resumed} | {resumed_by.get(kind, '?')} | "
        f"{job.created} (expected {job.expected_created}) | {job.edits} | {final} | "
        f"{_mark(job.finished and job.one_progress_message)} |"
    )


def body(a: RunFigures, b: RunFigures, settings: dict[str, str]) -> str:
    timings = ", ".join(f"`{k}={v}`" for k, v in settings.items())
    jobs = [_job_row(job, b.resumed_by) for job in b.jobs]
    restart = f"{b.restart_s:.1f} s" if b.restart_s is not None else "?"
    met = targets_met(a, b)
    return "\n".join(
        [
            "Two `k8or serve` processes on one PostgreSQL schema (fresh per run) behind a round-robin",
            "balancer in the bench process; the channel (their serviceUrl) counts every reply by the",
            "activity it answers. Each conversation sends its turns one after another (`help`); an",
            "activity answered 502 or cut off is redelivered with the same id, as the Bot Framework",
            "channel service does. In run B, at a third of the load, a rollout follower and a k8orize run",
            "start from chat on replica A (replica B is held with SIGSTOP for that moment so that A's",
            "worker takes both jobs), the cluster's controllers are paused, and A is SIGKILLed once the",
            f"k8orize run has begun its steps, then restarted (ready again in {restart}).",
            f"Delivery lease: the default 15 s; job timings for the bench: {timings}.",
            "",
            *_turn_rows(a, b),
            "",
            _duplicates_note(a, b),
            "",
            "Jobs on the killed replica (run B): time from the SIGKILL to the resumed job's first edit,",
            "who resumed it, and what the channel received for it (messages created, edits).",
            "",
            "| job | resumed after | by | messages created | edits | final state "
            "| one progress message, finished |",
            "|---|---|---|---|---|---|---|",
            *jobs,
            "",
            f"Audit entries for the rollout's result: {b.audited_results} (target 1 "
            f"{_mark(b.audited_results == 1)}).",
            "",
            f"Result: {'targets met' if met else 'TARGET MISSED'}.",
        ]
    )

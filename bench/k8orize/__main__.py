"""k8orize the Streamlit example a few times, check every target, write the medians to RESULTS.md.

    python -m bench.k8orize [--repeat 3] [--no-record] [--no-pip-baseline]

Targets (issue 5): app layer at least 70% smaller; every probe passes from the trimmed tree; at most
120 syscalls allowed (a third of Docker's default); zero denials under enforcement through start-up,
the probes and SIGTERM; the whole k8orize, install included, in at most 90 s. The baseline beside each
figure is what the app would ship without k8orization: the full venv and Docker's default profile;
one more run installs with pip instead of uv, side by side in the same invocation.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.results import median, record
from k8orize.engine import k8orize
from k8orize.request import K8orizeRequest
from k8orize.seccomp import DOCKER_DEFAULT_ALLOWED

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "streamlit-app"
RUN = (
    "python -m streamlit run app.py --server.port {port} --server.headless true "
    "--browser.gatherUsageStats false"
)
PROBES = ("http://127.0.0.1:{port}/_stcore/health", "http://127.0.0.1:{port}/")
IMAGE = "registry.example.com/k8or/streamlit-example@sha256:" + "5e" * 32


def one_run(installer: str = "auto") -> dict:
    """k8orize the example once into a temp dir and return its figures."""
    with tempfile.TemporaryDirectory(prefix="k8orize-bench-") as tmp:
        started = time.monotonic()
        result = k8orize(
            K8orizeRequest(
                app_dir=EXAMPLE,
                out=Path(tmp) / "out",
                name="streamlit-example",
                run=RUN,
                probes=PROBES,
                image=IMAGE,
                installer=installer,
            )
        )
        wall = time.monotonic() - started
    report = result.report
    steps = {s["step"]: s for s in report["steps"]}
    enforced = report["verification"]["enforced"]
    return {
        "wall": wall,
        "install": steps["install"]["seconds"],
        "before": report["sizes"]["bytes_before"],
        "after": report["sizes"]["bytes_after"],
        "reduction": report["sizes"]["reduction_percent"],
        "allowed": report["seccomp"]["allowed_count"],
        "traced": report["trace"]["syscalls_used"],
        "denials": enforced["denials"],
        "trimmed_ok": bool(report["verification"]["trimmed"]["passed"]),
        "enforced_ok": bool(enforced["run"] and enforced["run"]["passed"]),
        "refused": all(r.get("refused") for r in enforced["refusals"].values()),
        "sigterm": bool(enforced["run"] and enforced["run"]["stopped_by_sigterm"]),
        "learned": enforced["learned_from_enforced_run"],
        "checks_failed": report["checks_failed"],
        "driver": report["trace"]["session_driver"],
        "installer": report["install"]["installer"],
        "steps": {name: step["seconds"] for name, step in steps.items()},
        "load": os.getloadavg()[0],
    }


def _targets(runs: list[dict]) -> list[tuple[str, str, bool]]:
    reduction = median([r["reduction"] for r in runs])
    allowed = max(r["allowed"] for r in runs)
    wall = median([r["wall"] for r in runs])
    return [
        ("app layer at least 70% smaller", f"{reduction:.1f}% smaller (median)", reduction >= 70),
        (
            "every probe passes from the trimmed tree",
            f"{sum(r['trimmed_ok'] for r in runs)}/{len(runs)} runs",
            all(r["trimmed_ok"] for r in runs),
        ),
        ("at most 120 syscalls allowed", f"{allowed} (max over runs)", allowed <= 120),
        (
            "zero denials under enforcement (start-up, probes, SIGTERM)",
            f"{max(r['denials'] for r in runs)} (max), "
            f"probes passed {sum(r['enforced_ok'] for r in runs)}/{len(runs)}, "
            f"SIGTERM stop {sum(r['sigterm'] for r in runs)}/{len(runs)}",
            all(r["denials"] == 0 and r["enforced_ok"] and r["sigterm"] for r in runs),
        ),
        (
            "mount and ptrace refused",
            f"{sum(r['refused'] for r in runs)}/{len(runs)} runs",
            all(r["refused"] for r in runs),
        ),
        ("whole k8orize (install included) at most 90 s", f"{wall:.1f} s (median)", wall <= 90),
        (
            "manifests and Dockerfile clean (kubernetes-validate, checkov, hadolint)",
            "clean" if not any(r["checks_failed"] for r in runs) else "see report",
            not any(r["checks_failed"] for r in runs),
        ),
    ]


def _body(runs: list[dict], targets: list[tuple[str, str, bool]], pip_run: dict | None) -> str:
    before, after = median([r["before"] for r in runs]), median([r["after"] for r in runs])
    lines = [
        f"k8orize on `examples/streamlit-app` (Streamlit, with tracing), {len(runs)} runs, session driver: "
        f"{runs[0]['driver']} (Streamlit's websocket protocol, no browser), installer: "
        f"{', '.join(sorted({r['installer'] for r in runs}))}.",
        "",
        "| figure | baseline (no k8orization) | k8orized (median) |",
        "|---|---|---|",
        f"| app layer (site-packages + app) | {before / 1e6:.1f} MB (full venv) | {after / 1e6:.1f} MB |",
        f"| syscalls allowed | ~{DOCKER_DEFAULT_ALLOWED} (Docker default) "
        f"| {median([r['allowed'] for r in runs]):.0f} "
        f"({median([r['traced'] for r in runs]):.0f} traced + runtime, libc and interpreter base sets) |",
        f"| denials under enforcement | - | {max(r['denials'] for r in runs)} |",
        f"| k8orize wall time | - | {median([r['wall'] for r in runs]):.1f} s "
        f"(install {median([r['install'] for r in runs]):.1f} s) |",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *[f"| {name} | {value} | {'yes' if ok else 'NO'} |" for name, value, ok in targets],
        "",
        "Per run (wall s / install s / reduction % / allowed / denials): "
        + "; ".join(
            f"{r['wall']:.1f} / {r['install']:.1f} / {r['reduction']} / {r['allowed']} / {r['denials']}"
            for r in runs
        ),
    ]
    step_names = list(runs[0]["steps"])
    loads = ", ".join(f"{r['load']:.1f}" for r in runs)
    lines += [
        "",
        "Median seconds per step (the linters run alongside the verification runs, so `checks` is only the "
        "wait for them): "
        + ", ".join(f"{n} {median([r['steps'][n] for r in runs]):.1f}" for n in step_names),
        f"1-minute load average at the end of each run: {loads} "
        "(other benchmarks and test suites share the 2 cores).",
    ]
    if pip_run:
        lines.append(
            f"\nSide by side, one run with `--installer pip` in the same invocation: {pip_run['wall']:.1f} s "
            f"(install {pip_run['install']:.1f} s), {pip_run['reduction']}% smaller, {pip_run['allowed']} allowed, "
            f"{pip_run['denials']} denials."
        )
    learned = sorted({name for r in runs for name in r["learned"]})
    if learned:
        lines.append(f"\nCalls first seen under enforcement and added to the profile: {', '.join(learned)}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.k8orize")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-record", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--no-pip-baseline", action="store_true", help="skip the side-by-side run with pip")
    args = parser.parse_args(argv)
    runs = []
    for i in range(args.repeat):
        runs.append(one_run())
        print(f"run {i + 1}/{args.repeat}: {runs[-1]}", file=sys.stderr, flush=True)
    pip_run = None if args.no_pip_baseline else one_run("pip")
    targets = _targets(runs)
    body = _body(runs, targets, pip_run)
    print(body)
    if not args.no_record:
        record("k8orize", body, f"python -m bench.k8orize --repeat {args.repeat}")
    print(f"pip baseline: {pip_run}", file=sys.stderr)
    return 0 if all(ok for _, _, ok in targets) else 1


if __name__ == "__main__":
    sys.exit(main())

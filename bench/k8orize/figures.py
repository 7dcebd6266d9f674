"""The benchmark's targets and its section of RESULTS.md, from the figures of each run."""

from __future__ import annotations

from typing import Any

from bench.k8orize.examples import Example
from bench.results import median
from k8orize.seccomp import DOCKER_DEFAULT_ALLOWED

Target = tuple[str, str, bool]


def _mb(value: float) -> str:
    return f"{value / 1e6:.1f} MB"


def _all(runs: list[dict[str, Any]], key: str) -> tuple[str, bool]:
    passed = sum(bool(r[key]) for r in runs)
    return f"{passed}/{len(runs)} runs", passed == len(runs)


def targets(example: Example, runs: list[dict[str, Any]], level: str = "safe") -> list[Target]:
    allowed = max(r["allowed"] for r in runs)
    wall = median([r["wall"] for r in runs])
    found: list[Target] = []
    if example.max_wall is not None:
        found.append(
            (
                f"whole run (install, trace, build, push, verification) at most {example.max_wall:.0f} s",
                f"{wall:.1f} s (median)",
                wall <= example.max_wall,
            )
        )
    if level in example.min_reduction:
        reduction, wanted = median([r["reduction"] for r in runs]), example.min_reduction[level]
        found.append(
            (
                f"app layer at least {wanted:.0f}% smaller (--trim {level})",
                f"{reduction:.1f}% (median)",
                reduction >= wanted,
            )
        )
    if level == "safe":
        found.append(
            ("requirements intact (pip check of the trimmed site-packages)", *_all(runs, "closure_ok"))
        )
    found.append(("every traced module imports again from the trimmed tree", *_all(runs, "reimport_ok")))
    smaller = all(0 < r["image"] < r["naive"] for r in runs)
    found += [
        ("whole image smaller than the naive one", "yes" if smaller else "no (or not built)", smaller),
        ("the manifests pin the digest the registry serves", *_all(runs, "pinned")),
        ("every probe passes from the trimmed tree", *_all(runs, "trimmed_ok")),
        ("at most 120 syscalls allowed", f"{allowed} (max over runs)", allowed <= 120),
        (
            "zero denials under enforcement (start-up, probes, SIGTERM)",
            f"{max(r['denials'] for r in runs)} (max), probes passed {sum(r['enforced_ok'] for r in runs)}"
            f"/{len(runs)}, SIGTERM stop {sum(r['sigterm'] for r in runs)}/{len(runs)}",
            all(r["denials"] == 0 and r["enforced_ok"] and r["sigterm"] for r in runs),
        ),
        ("mount and ptrace refused", *_all(runs, "refused")),
        (
            "the built image passes under runc (probes, session, no denials, SIGTERM, mount/ptrace refused)",
            f"{_all(runs, 'runc_ok')[0]}, {max(r['runc_denials'] for r in runs)} denials (max), "
            f"{median([r['steps'].get('verify under runc', 0.0) for r in runs]):.1f} s (median)",
            _all(runs, "runc_ok")[1] and all(r["runc_denials"] == 0 for r in runs),
        ),
        (
            "no failed step; checks clean (kubernetes-validate, checkov, hadolint)",
            "clean" if not any(r["checks_failed"] for r in runs) else "; ".join(runs[0]["checks_failed"]),
            not any(r["checks_failed"] for r in runs),
        ),
    ]
    return found


def _table(runs: list[dict[str, Any]]) -> list[str]:
    m = {key: median([r[key] for r in runs]) for key in ("image", "naive", "before", "after", "wall")}
    smaller = 100 * (1 - m["image"] / m["naive"]) if m["naive"] else float("nan")
    return [
        "| figure | baseline | k8orized (median) |",
        "|---|---|---|",
        f"| whole image (base included) | {_mb(m['naive'])} (naive: same base, `pip install -r "
        f"requirements.txt`) | {_mb(m['image'])} ({smaller:.1f}% smaller) |",
        f"| app layer (site-packages + app) | {_mb(m['before'])} (full venv) | {_mb(m['after'])} |",
        f"| syscalls allowed | ~{DOCKER_DEFAULT_ALLOWED} (Docker default) | "
        f"{median([r['allowed'] for r in runs]):.0f} ({median([r['traced'] for r in runs]):.0f} traced) |",
        f"| denials under enforcement | - | {max(r['denials'] for r in runs)} |",
        f"| whole run | - | {m['wall']:.1f} s (install {median([r['install'] for r in runs]):.1f} s, build "
        f"{median([r['build'] for r in runs]):.1f} s, push {median([r['push'] for r in runs]):.1f} s) |",
    ]


def body(
    example: Example,
    runs: list[dict[str, Any]],
    checked: list[Target],
    pip_run: dict[str, Any] | None,
    level: str = "safe",
) -> str:
    step_names = list(runs[0]["steps"])
    loads = ", ".join(f"{r['load']:.1f}" for r in runs)
    levels = {name: median([r["levels"].get(name, 0.0) for r in runs]) for name in ("safe", "traced")}
    untraced = sorted({name for r in runs for name in r["untraced"]})
    lines = [
        f"### {example.name}, --trim {level}",
        "",
        f"`{example.folder.relative_to(example.folder.parents[1])}`, {len(runs)} runs, session driver: "
        f"{runs[0]['driver']}, installer: {', '.join(sorted({r['installer'] for r in runs}))}. "
        f"The report's figures for both levels (median): safe {levels['safe']:.1f}% smaller, traced "
        f"{levels['traced']:.1f}% smaller; traced modules imported again: {runs[0]['reimported']}; "
        f"requirements the trace never loaded: {', '.join(untraced) or 'none'}.",
        "",
        *_table(runs),
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *[f"| {name} | {value} | {'yes' if ok else 'NO'} |" for name, value, ok in checked],
        "",
        "Per run (wall s / build s / image MB / naive MB / allowed / denials): "
        + "; ".join(
            f"{r['wall']:.1f} / {r['build']:.1f} / {r['image'] / 1e6:.1f} / {r['naive'] / 1e6:.1f} / "
            f"{r['allowed']} / {r['denials']}"
            for r in runs
        ),
        "",
        "Median seconds per step (they overlap, so they add up to more than the whole run: the image is "
        "built and pushed while the trimmed tree is verified, the naive image builds from the analysis on, "
        "the linters run alongside the runtime checks): "
        + ", ".join(f"{n} {median([r['steps'].get(n, 0.0) for r in runs]):.1f}" for n in step_names),
        f"1-minute load average at the end of each run: {loads} (2 cores, shared with whatever else runs).",
    ]
    if pip_run:
        lines.append(
            f"\nSide by side, one run with `--installer pip`: {pip_run['wall']:.1f} s "
            f"(install {pip_run['install']:.1f} s), {pip_run['allowed']} allowed, "
            f"{pip_run['denials']} denials."
        )
    learned = sorted({name for r in runs for name in r["learned"]})
    if learned:
        lines.append(f"\nCalls first seen under enforcement and added to the profile: {', '.join(learned)}.")
    return "\n".join(lines)

"""k8orize each example app a few times, image built and pushed for real; check every target; write RESULTS.md.

    python -m bench.k8orize [--repeat 3] [--example streamlit-example] [--no-record] [--no-pip-baseline]

Each run is the whole k8orization: sandboxed install, trace, trim, seccomp, the image built with buildah
FROM the locally made base (`scripts/test-base-image`: python:*-slim cannot be pulled here), pushed to a
local registry (Debian's docker-registry on 127.0.0.1), the registry's digest pinned in the manifests,
the verification runs and the judges. Baselines beside each figure, measured in the same run: the naive
image (same base + `pip install -r requirements.txt`, built the same way), the full venv, Docker's
default seccomp profile; and for the Streamlit example one more run installing with pip instead of uv.

Targets: whole run at most 120 s for the Streamlit example (issue 11) and its app layer at least 70%
smaller (issue 5); at most 120 syscalls allowed; zero denials under enforcement; mount and ptrace
refused; the manifests pin the digest the registry serves for the pushed tag; checks clean.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.k8orize.examples import REPO, Example, examples
from bench.k8orize.figures import body, targets
from bench.results import record
from k8orize.engine import k8orize
from k8orize.image import BuiltImage, remove_image
from testing.registry import LocalRegistry, local_registry


def base_image() -> str:
    """The local base (built once, then cached: scripts/test-base-image)."""
    script = REPO / "scripts" / "test-base-image"
    proc = subprocess.run([str(script), sys.executable], capture_output=True, text=True, check=True)
    return proc.stdout.strip().splitlines()[-1]


def _pinned_by_registry(out: Path, report: dict[str, Any], registry: LocalRegistry) -> bool:
    """The Deployment names exactly the digest the registry serves for the pushed tag."""
    pushed = report["image"]["pushed"]
    if not pushed:
        return False
    repository, tag = pushed["destination"].split("/", 1)[1].rsplit(":", 1)
    deployment = yaml.safe_load((out / "manifests" / "30-deployment.yaml").read_text())
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    served = registry.manifest_digest(repository, tag)
    return bool(served) and container["image"] == f"{registry.host}/{repository}@{served}"


def one_run(
    example: Example, base: str, registry: LocalRegistry, installer: str = "auto", trim: str = "safe"
) -> dict[str, Any]:
    """k8orize the example once into a temp dir at one trim level, image built and pushed; its figures."""
    with tempfile.TemporaryDirectory(prefix="k8orize-bench-") as tmp:
        out = Path(tmp) / "out"
        push = f"{registry.host}/k8or/{example.name}"
        request = example.request(out, base_image=base, push=push, installer=installer, trim=trim)
        started = time.monotonic()
        report: dict[str, Any] = dict(k8orize(request).report)
        wall = time.monotonic() - started
        pinned = _pinned_by_registry(out, report, registry)
    image = report["image"]
    if image["image_id"]:  # on vfs every image is a whole copy: keep none of the runs'
        remove_image(BuiltImage(image["reference"] or "", image["image_id"], 0))
    return figures(report, wall, pinned)


def figures(report: dict[str, Any], wall: float, pinned: bool) -> dict[str, Any]:
    steps = {s["step"]: s for s in report["steps"]}
    enforced = report["verification"]["enforced"] or {}
    image = report["image"]
    trim = report["trim"] or {}
    return {
        "trim": trim.get("level", "-"),
        "levels": {name: level["reduction_percent"] for name, level in trim.get("levels", {}).items()},
        "closure_ok": bool(trim and trim["closure_check"]["passed"]),
        "reimported": f"{trim['reimport']['imported_again']}/{trim['reimport']['modules']}" if trim else "-",
        "reimport_ok": bool(
            trim and trim["reimport"]["error"] is None and not trim["reimport"]["failed_after_trim"]
        ),
        "untraced": [u["name"] for u in trim.get("untraced_requirements", [])],
        "wall": wall,
        "install": steps.get("install", {}).get("seconds", 0.0),
        "build": steps.get("build image", {}).get("seconds", 0.0),
        "push": steps.get("push", {}).get("seconds", 0.0),
        "image": image["size_bytes"] or 0,
        "naive": image["naive"]["size_bytes"] or 0,
        "pinned": pinned,
        "before": report["sizes"]["bytes_before"],
        "after": report["sizes"]["bytes_after"],
        "reduction": report["sizes"]["reduction_percent"],
        "allowed": report["seccomp"].get("allowed_count", 0),
        "traced": report["trace"].get("syscalls_used", 0),
        "denials": enforced.get("denials", 0),
        "trimmed_ok": bool((report["verification"]["trimmed"] or {}).get("passed")),
        "enforced_ok": bool((enforced.get("run") or {}).get("passed")),
        "refused": all(r.get("refused") for r in enforced.get("refusals", {}).values()) and bool(enforced),
        "sigterm": bool((enforced.get("run") or {}).get("stopped_by_sigterm")),
        "learned": enforced.get("learned_from_enforced_run", []),
        "checks_failed": report["checks_failed"]
        + [s["step"] for s in report["steps"] if s["status"] == "failed"],
        "driver": report["trace"].get("session_driver", "none"),
        "installer": (report["install"] or {}).get("installer", "-"),
        "steps": {name: step["seconds"] for name, step in steps.items()},
        "load": os.getloadavg()[0],
        # The built image under runc (probes, session, SIGTERM, refusals; denials from the kernel's log).
        "runc_ok": steps.get("verify under runc", {}).get("status") == "ok",
        "runc_denials": sum(c["denials"] or 0 for c in report.get("runtime_verification", [])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.k8orize")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--example", action="append", help="only this example (repeatable)")
    parser.add_argument(
        "--trim", action="append", choices=["safe", "traced"], help="only this trim level (default: both)"
    )
    parser.add_argument("--no-record", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--no-pip-baseline", action="store_true", help="skip the side-by-side run with pip")
    args = parser.parse_args(argv)
    chosen = [e for e in examples() if not args.example or e.name in args.example]
    base, sections, met = base_image(), [], True
    with (
        tempfile.TemporaryDirectory(prefix="k8orize-bench-registry-") as tmp,
        local_registry(Path(tmp)) as registry,
    ):
        for example in chosen:
            for level in args.trim or ["safe", "traced"]:
                runs = []
                for i in range(args.repeat):
                    runs.append(one_run(example, base, registry, trim=level))
                    print(
                        f"{example.name} --trim {level} run {i + 1}/{args.repeat}: {runs[-1]}",
                        file=sys.stderr,
                    )
                pip_run = None
                if example.max_wall is not None and level == "safe" and not args.no_pip_baseline:
                    pip_run = one_run(example, base, registry, "pip")
                checked = targets(example, runs, level)
                met = met and all(ok for _, _, ok in checked)
                sections.append(body(example, runs, checked, pip_run, level))
    text = f"Base image: `{base}` (made by scripts/test-base-image).\n\n" + "\n\n".join(sections)
    print(text)
    if not args.no_record:
        examples_arg = "".join(f" --example {e.name}" for e in chosen) if args.example else ""
        examples_arg += "".join(f" --trim {level}" for level in args.trim or [])
        record("k8orize", text, f"python -m bench.k8orize --repeat {args.repeat}{examples_arg}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

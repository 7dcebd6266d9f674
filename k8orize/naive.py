"""The baseline image k8orize is measured against: what a Dockerfile without k8or ships.

`FROM` the same base, `COPY` the app as it is, `pip install -r requirements.txt` (or the project
itself), run as root. Built the same way as the k8orized image, so the two whole-image sizes compare;
its `pip install`, with every build backend it runs, runs unprivileged (build_isolation.py). The app's
flagged secrets are left out even here: no image k8or builds ever holds them.
"""

from __future__ import annotations

import json
from pathlib import Path

from .analyze import AppAnalysis
from .appfiles import AppFileRefused

# A build argument in both Dockerfiles: tests and air-gapped builds point it at a local base.
BASE_ARG = "BASE_IMAGE"


def install_line(analysis: AppAnalysis) -> str:
    """How a plain Dockerfile installs this app's dependencies."""
    if analysis.app_files.is_file("requirements.txt"):
        return "RUN pip install --no-cache-dir -r requirements.txt"
    return "RUN pip install --no-cache-dir ."


def render(default_base: str, analysis: AppAnalysis, cmd: list[str]) -> str:
    """The naive Dockerfile; its build context is the folder `context` fills."""
    return "\n".join(
        [
            "# The naive baseline k8orize compares its image with (not shipped).",
            f"ARG {BASE_ARG}={default_base}",
            f"FROM ${{{BASE_ARG}}}",
            "WORKDIR /app",
            "COPY . /app",
            install_line(analysis),
            f"CMD {json.dumps(cmd)}",
            "",
        ]
    )


def context(analysis: AppAnalysis, dest: Path) -> Path:
    """Copy the app's files (kept and redundant alike, never its secrets) into `dest`, the build context."""
    scan = analysis.files
    for rel in [*scan.keep, *(f for files in scan.redundant.values() for f in files)]:
        try:
            analysis.app_files.copy(rel, dest / rel)
        except AppFileRefused:  # changed since the scan: the k8orized image left it out too
            continue
    dest.mkdir(parents=True, exist_ok=True)
    return dest

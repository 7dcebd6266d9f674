"""The k8orization engine: analyze, trace, trim, verify, and write the hardened output atomically.

Library entry point for the CLI and the chat side:

    result = k8orize(K8orizeRequest(app_dir=..., out=..., run=..., probes=(...)), progress=callback)
    result.summary(); result.picture; result.report

Everything is built in a temporary directory beside OUT and renamed into place at the very end, so a
failure (bad input, an app that exits, a probe that never turns healthy) leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .report_schema import Report

if TYPE_CHECKING:  # the pipeline loads when a run starts: `k8or serve` imports this module, not the engine
    from .appkinds import AppKindRegistry
    from .request import K8orizeRequest
    from .steps import Progress


@dataclass
class K8orizeResult:
    """What a finished k8orization produced."""

    report: Report
    out: Path

    @property
    def picture(self) -> Path:
        """The PNG of the pipeline's steps and their status, for chat to attach."""
        return self.out / "pipeline.png"

    @property
    def report_path(self) -> Path:
        return self.out / "report.json"

    def summary(self) -> str:
        """A short markdown-ish summary for a chat reply."""
        from . import summary as summary_mod

        return summary_mod.summary_text(self.report)

    def text_outputs(self) -> dict[str, str]:
        """The text outputs (what a pull request carries), keyed by their path relative to OUT."""
        from .report import TEXT_OUTPUTS

        files: dict[str, str] = {}
        for pattern in TEXT_OUTPUTS:
            for path in sorted(self.out.glob(pattern)):
                if path.is_file():
                    files[path.relative_to(self.out).as_posix()] = path.read_text(encoding="utf-8")
        return files


def _publish(staging: Path, out: Path) -> None:
    """Swap the finished staging directory into OUT (replacing an older output)."""
    os.chmod(staging, 0o755)
    if out.exists():
        retired = Path(tempfile.mkdtemp(prefix=f"{out.name}.k8orize-old-", dir=out.parent))
        os.replace(out, retired / out.name)
        os.replace(staging, out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, out)


def k8orize(
    request: K8orizeRequest, progress: Progress | None = None, registry: AppKindRegistry | None = None
) -> K8orizeResult:
    """Run the whole pipeline for request; raise a K8orizeError (and write nothing) on bad input.

    The staging folder is not a dot-folder on purpose: checkov skips hidden directories.
    """
    from .appkinds import default_registry
    from .pipeline import Pipeline

    request.validate()
    out = request.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{out.name}.k8orize-staging-", dir=out.parent))
    work = Path(tempfile.mkdtemp(prefix=f"{out.name}.k8orize-work-", dir=out.parent))
    try:
        report = Pipeline(request, registry or default_registry(), staging, work, progress).run()
        _publish(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return K8orizeResult(report, out)

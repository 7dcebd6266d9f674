"""The trim step: the image's layer at the level asked for, and the proofs that it still works.

Safe or traced (`trim.py`), then inside the sandbox a `pip check` of the trimmed site-packages'
own requirements (`closure_check.py`) and every module the trace imported imported again from the
trimmed tree (`reimport.py`).
"""

from __future__ import annotations

from pathlib import Path

from . import reimport, trim
from .analyze import AppAnalysis
from .appmodules import unused_modules
from .closure_check import pip_check
from .facts import Installed, Traced, TrimProof
from .request import K8orizeRequest
from .sandbox import SandboxHost
from .steps import WARN, Verdict


def trim_layer(
    req: K8orizeRequest,
    sandbox: SandboxHost | None,
    image: Path,
    work: Path,
    analysis: AppAnalysis,
    venv: Installed,
    traced: Traced,
) -> tuple[tuple[trim.TrimResult, TrimProof], Verdict]:
    """Write the trimmed layer under `image`; its figures, its proofs and the step's verdict."""
    site, opened = venv.venv.site_packages, traced.trace.opened
    in_site = trim.opened_in_site(opened, site)
    touched = trim.touched_distributions(in_site, venv.dists)
    roots = trim.closure_roots(touched, analysis.imports, venv.dists, analysis.requirement_specs)
    plan = trim.plan_site(site, venv.dists, in_site, roots, analysis.declared)
    tally = trim.TrimTally()
    trim.trim_site_packages(site, venv.dists, plan, req.trim, image / trim.SITE, work, tally)
    app, files = analysis.app_files, analysis.files
    unused = unused_modules(app, files.keep, analysis.entrypoint, req.run, opened, (req.app_dir,))
    trim.trim_app(app, files, image / trim.APP, tally, unused)
    result = tally.result()
    proof = TrimProof(
        pip_check(sandbox, image / trim.SITE),
        reimport.prove(sandbox, image / trim.SITE, site, reimport.traced_modules(in_site)),
    )
    return (result, proof), verdict(result, proof)


def verdict(result: trim.TrimResult, proof: TrimProof) -> Verdict:
    """ok when the level's promise holds: requirements intact (safe) and the traced modules import."""
    level = result.level or trim.SAFE
    intact = proof.closure.passed or level == trim.TRACED
    closure = "requirements intact" if proof.closure.passed else "requirements NOT intact (pip check)"
    again = proof.reimport
    detail = (
        f"--trim {level}: {result.bytes_before / 1e6:.1f} MB -> {result.bytes_after / 1e6:.1f} MB "
        f"({100 * result.reduction:.1f}% smaller), {closure}, "
        f"{again.imported_again}/{again.modules} traced modules import again"
    )
    return Verdict.ok_if(intact and again.proved, detail, otherwise=WARN)

"""The pipeline's "verify under runc" and "verify under runsc" steps.

Once the image is built and the manifests are written, the image's root filesystem is lent to
`runtime_verify.verify_shipped`: under runc always, under runsc too when the pods ask for gVisor
(`--sandbox gvisor`). A check that fails is a failed step, not a stopped k8orization: the report says
what failed. Without a trace there is no profile to prove and no session to drive, so the steps are
skipped; without an image there is nothing to run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from . import runtimes
from .errors import K8orizeError, ToolMissing
from .facts import TracedBuild
from .image import BuiltImage
from .request import K8orizeRequest
from .runner import driver_script
from .runtime_verify import RuntimeCheck, SessionPlan, verify_shipped
from .steps import FAILED, WARN, Verdict

T = TypeVar("T")
StepRunner = Callable[[str, Callable[[], tuple[T, Verdict]]], T]
STEP = "verify under {runtime}"


class ImageSource(Protocol):
    """Where the pipeline's image steps left the built image (shipping.ImageSteps)."""

    @property
    def built(self) -> BuiltImage | None: ...
    @property
    def why_not_built(self) -> str | None: ...
    def rootfs(self) -> Path:
        """The built image's root filesystem, lent for as long as the pipeline runs."""
        ...


def runtimes_for(request: K8orizeRequest) -> list[str]:
    """runc, which every pod meets, and runsc when the pods ask for gVisor."""
    return ["runc"] + (["runsc"] if request.sandbox == "gvisor" else [])


def run(
    step: StepRunner[RuntimeCheck | None],
    skip: Callable[[str, str], None],
    request: K8orizeRequest,
    where: tuple[str, Path, Path],
    traced: TracedBuild | None,
    images: ImageSource,
) -> tuple[RuntimeCheck, ...]:
    """One step per runtime over the built image's root filesystem; the checks that ran.

    `where`: the app's name, OUT (the staging folder the steps write to) and the scratch folder.
    """
    names = runtimes_for(request)
    why_not = None if traced else "no trace was taken, so there is no profile to verify"
    why_not = why_not or (None if images.built else f"the image was not built ({images.why_not_built})")
    if why_not or images.built is None:
        for runtime in names:
            skip(STEP.format(runtime=runtime), why_not or "the image was not built")
        return ()
    session = _session(traced)
    checks: list[RuntimeCheck | None] = []
    try:
        rootfs = images.rootfs()
        for runtime in names:
            action = _action(runtime, request, where, rootfs, session)
            checks.append(step(STEP.format(runtime=runtime), action))
    except K8orizeError as exc:  # the image's files could not be lent: each runtime's step says so
        failed = Verdict(FAILED, f"the image's root filesystem: {str(exc).splitlines()[0]}")
        for runtime in names[len(checks) :]:
            step(STEP.format(runtime=runtime), lambda: (None, failed))
    return tuple(c for c in checks if c is not None)


def _session(traced: TracedBuild | None) -> SessionPlan | None:
    driver = traced.runs.kind.session_driver if traced else None
    script = driver_script(driver)
    return SessionPlan(driver, script, traced.runs.timeout) if driver and script and traced else None


def _action(
    runtime: str,
    request: K8orizeRequest,
    where: tuple[str, Path, Path],
    rootfs: Path,
    session: SessionPlan | None,
) -> Callable[[], tuple[RuntimeCheck | None, Verdict]]:
    name, out, work = where

    def check() -> tuple[RuntimeCheck | None, Verdict]:
        try:
            found = runtimes.find(runtime, work / f"{runtime}-state")
        except ToolMissing as exc:
            return None, Verdict(WARN, str(exc))
        started = time.monotonic()
        try:
            result = verify_shipped(out, name, rootfs, found, work=work, session=session, secrets=request.env)
        except K8orizeError as exc:
            return None, Verdict(FAILED, str(exc).splitlines()[0])
        return result, Verdict.ok_if(result.passed, describe(result, time.monotonic() - started))

    return check


def describe(check: RuntimeCheck, seconds: float) -> str:
    """The step log's line: what passed, or what failed."""
    if not check.passed:
        return f"{check.runtime} {check.version.split()[0]}: " + "; ".join(check.problems())[:400]
    outcome = check.shipped.outcome
    assert outcome is not None  # passed implies the shipped life ran
    probes = f"{sum(p.ok for p in outcome.probes)}/{len(outcome.probes)} probes"
    session = (
        f", session {'ok' if (outcome.session or {}).get('ok') else 'failed'}" if outcome.session else ""
    )
    denials = "denials not observable" if check.denials is None else f"{sum(check.denials.values())} denials"
    return (
        f"{check.runtime} {check.version.split()[0]}: {probes}{session}, {denials}, exit {outcome.exit_code} "
        f"on SIGTERM, mount/ptrace refused ({seconds:.1f}s)"
    )

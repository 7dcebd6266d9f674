"""What each step of a k8orization found, as frozen values the pipeline hands from step to step.

`Facts` gathers them once the last artefact is written; `report.build(facts)` turns them into
report.json. Neither the pipeline nor the report reads the other's insides.
"""

from __future__ import annotations

from dataclasses import dataclass

from .analyze import AppAnalysis, DependencyReport
from .app_user import TrimmedRuntime
from .checks import CheckResult
from .closure_check import ClosureCheck
from .distributions import Distribution
from .install import AppVenv
from .reimport import Reimport
from .request import K8orizeRequest
from .runner import RunOutcome
from .runtime_verify import RuntimeCheck
from .seccomp import SeccompProfile
from .shipping import Shipped
from .trace import SyscallTrace
from .trim import TrimResult
from .verify import EnforcedRun, Refusals, RunFactory


@dataclass(frozen=True)
class Installed:
    """The app's isolated venv and the distributions installed into it."""

    venv: AppVenv
    dists: dict[str, Distribution]


@dataclass(frozen=True)
class Traced:
    """The traced run: what the app called and opened, and how its probes and session went."""

    trace: SyscallTrace
    run: RunOutcome


@dataclass(frozen=True)
class TrimProof:
    """What proves the trimmed tree: its own requirements checked, every traced module imported again."""

    closure: ClosureCheck
    reimport: Reimport


@dataclass(frozen=True)
class Prepared:
    """What the image is built from: the dependency verdict, the container command and the app layer."""

    deps: DependencyReport
    argv: tuple[str, ...]
    layer: TrimResult
    traced: bool  # True: site-packages and the app trimmed by the trace; False: the app's files only
    proof: TrimProof | None = None  # traced runs only


@dataclass(frozen=True)
class TracedBuild:
    """Everything the traced half of the pipeline produced before the artefacts are rendered."""

    installed: Installed
    traced: Traced
    prepared: Prepared
    profile: SeccompProfile
    runs: RunFactory  # how every later run of this app is started (port, probes, environment)


@dataclass(frozen=True)
class Manifests:
    """The rendered manifests: which seccomp profile the pods load (None: RuntimeDefault)."""

    localhost_profile: str | None


@dataclass(frozen=True)
class Enforcement:
    """The verified run under the profile; `profile` includes whatever that run taught it."""

    run: EnforcedRun
    refusals: Refusals
    learned: tuple[str, ...]
    first_run_denials: dict[str, int]
    profile: SeccompProfile

    @property
    def refused(self) -> bool:
        """Every call that must be refused was."""
        return all(r.get("refused") for r in self.refusals.values())


@dataclass(frozen=True)
class Verification:
    """The trimmed tree run plainly and under enforcement, and as whom."""

    runtime: TrimmedRuntime
    trimmed: RunOutcome
    enforced: Enforcement


@dataclass(frozen=True)
class Linted:
    """The linters' verdicts, and how long they took alongside the runs."""

    results: tuple[CheckResult, ...]
    seconds: float

    @property
    def failed(self) -> list[str]:
        return [r.name for r in self.results if r.ran and not r.passed]


@dataclass(frozen=True)
class Facts:
    """Everything report.json says, gathered from the steps' results."""

    request: K8orizeRequest
    name: str
    uid: int
    analysis: AppAnalysis
    prepared: Prepared
    installed: Installed | None
    traced: Traced | None
    profile: SeccompProfile | None
    manifests: Manifests
    verification: Verification | None
    linted: Linted
    image: Shipped  # the built image, its naive baseline and where it was pushed
    not_verified: tuple[str, ...]
    runtime_checks: tuple[RuntimeCheck, ...] = ()  # the built image under runc (and runsc)

"""The shape of report.json, typed: what `report.build` returns and what the renderers read.

Each section is a TypedDict, so the report is one typed value that is also exactly the JSON written to
disk (key order included): the file's format stays what reviewers and tools already read.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from .jsontypes import JSON, JSONObject
from .steps import StepEntry

__all__ = ["JSON", "JSONObject", "Report"]  # JSON types are re-exported for the report's readers


class AppJSON(TypedDict):
    name: str
    kind: str
    entrypoint: str | None
    source: str
    uid: int
    gid: int
    port: int
    run: str | None
    container_command: list[str]
    probes: list[str]


class DependenciesJSON(TypedDict):
    declared: list[str]
    imported: list[str]
    unused: list[str]
    missing: list[str]
    mapping: str


class InstallJSON(TypedDict):
    installer: str
    log: str


class UnreadableJSON(TypedDict):
    path: str
    reason: str


class FilesJSON(TypedDict):
    kept: list[str]
    redundant: dict[str, list[str]]
    redundant_bytes: dict[str, int]
    secrets_flagged_never_copied: list[str]
    unreadable: list[UnreadableJSON]


class SizesJSON(TypedDict):
    bytes_before: int
    bytes_after: int
    reduction_percent: float
    before_by_part: dict[str, int]
    removed_by_category: dict[str, int]
    kept_by_category: dict[str, int]
    kept_distributions: list[str]
    dropped_distributions: list[str]
    app_layer: str


class LevelJSON(TypedDict):
    """What one trim level gives, whichever level was built."""

    bytes_after: int
    reduction_percent: float
    removed_by_category: dict[str, int]


class UntracedJSON(TypedDict):
    name: str
    required_by: str


class ClosureCheckJSON(TypedDict):
    tool: str
    ran: bool
    passed: bool
    problems: list[str]
    why_not: str | None


class ReimportJSON(TypedDict):
    modules: int
    imported_again: int
    failed_after_trim: dict[str, str]
    failed_before_trim_too: dict[str, str]
    error: str | None
    how: str


class TrimJSON(TypedDict):
    """How site-packages was trimmed, what each level would give, and the proofs of the level built."""

    level: str
    levels: dict[str, LevelJSON]
    untraced_requirements: list[UntracedJSON]
    untraced_requirements_dropped: bool
    unused_app_modules: list[str]
    unused_app_modules_dropped: bool
    untraced_shared_objects: list[str]
    untraced_shared_objects_dropped: bool
    closure_check: ClosureCheckJSON
    reimport: ReimportJSON


class ProbeJSON(TypedDict):
    url: str
    status: int | None
    ok: bool
    error: str | None


class RunJSON(TypedDict):
    passed: bool
    probes: list[ProbeJSON]
    session: JSONObject | None
    ready_seconds: float
    exit_code: int | None
    stopped_by_sigterm: bool


class TraceTakenJSON(TypedDict):
    taken: Literal[True]
    tool: str
    session_driver: str
    session_driver_detail: str | None
    syscalls_used: int
    syscall_counts: dict[str, int]
    files_opened: int
    run: RunJSON
    files: str


class TraceSkippedJSON(TypedDict):
    taken: Literal[False]


class LocalhostSeccompJSON(TypedDict):
    mode: Literal["Localhost"]
    localhost_profile: str | None
    profile: str
    spo_object: str
    default_action: str
    allowed: list[str]
    allowed_count: int
    traced_count: int
    docker_default_allowed: int
    fraction_of_docker_default: float
    unknown_traced_names: list[str]
    syscall_table: str
    runtime_base: RuntimeBaseJSON | None


class RuntimeBaseJSON(TypedDict):
    """What the container runtime calls under the filter before execve, and where that was learned."""

    runtime: str
    version: str
    syscalls: list[str]
    how: str


class DefaultSeccompJSON(TypedDict):
    mode: Literal["RuntimeDefault"]
    reason: str
    profile: None


class RuntimeJSON(TypedDict):
    as_uid: int | None
    how: str


class EnforcedJSON(TypedDict):
    enforced_by: str
    run: RunJSON
    denials: int
    denied_calls: dict[str, int]
    eperm_returns: dict[str, int]
    calls_observed: int
    refusals: dict[str, JSONObject]
    learned_from_enforced_run: list[str]
    first_run_denials: dict[str, int]


class VerifiedJSON(TypedDict):
    runtime: RuntimeJSON
    trimmed: RunJSON
    enforced: EnforcedJSON


class UnverifiedJSON(TypedDict):
    trimmed: None
    enforced: None


class CheckJSON(TypedDict):
    ran: bool
    passed: bool
    detail: str


class PushedJSON(TypedDict):
    destination: str
    digest: str
    pinned: str


class NaiveJSON(TypedDict):
    built: bool
    size_bytes: int | None
    dockerfile: str | None
    log: str | None
    why_not: str | None


class ImageJSON(TypedDict):
    built: bool
    why_not_built: str | None
    builder: str
    base_image: str
    base_digest: str | None
    reference: str | None
    image_id: str | None
    size_bytes: int | None
    log: str | None
    naive: NaiveJSON
    smaller_than_naive_percent: float | None
    pushed: PushedJSON | None


class RuntimeLifeJSON(TypedDict):
    label: str
    run: RunJSON | None
    error: str | None
    denials: dict[str, int] | None


class RuntimeCheckJSON(TypedDict):
    """The built image run as a kubelet would, under one OCI runtime."""

    runtime: str
    version: str
    passed: bool
    problems: list[str]
    bundle: JSONObject
    shipped: RuntimeLifeJSON
    audit: RuntimeLifeJSON | None
    denials: int | None
    denied_calls: dict[str, int] | None
    denials_observed_by: str | None
    refusals: dict[str, JSONObject]
    notes: list[str]
    logs: list[str]


class ObservabilityJSON(TypedDict):
    structured_logs: dict[str, str]
    structured_logs_note: str | None
    metrics_path: str | None
    prometheus_annotations: bool
    call_trace: str


class Report(TypedDict):
    """report.json: `steps` and `duration_seconds` join once the last step has finished."""

    app: AppJSON
    dependencies: DependenciesJSON
    install: InstallJSON | None
    files: FilesJSON
    sizes: SizesJSON
    trim: TrimJSON | None
    trace: TraceTakenJSON | TraceSkippedJSON
    seccomp: LocalhostSeccompJSON | DefaultSeccompJSON
    verification: VerifiedJSON | UnverifiedJSON
    image: ImageJSON
    runtime_verification: list[RuntimeCheckJSON]
    checks: dict[str, CheckJSON]
    checks_passed: list[str]
    checks_failed: list[str]
    not_verified: list[str]
    observability: ObservabilityJSON
    outputs: list[str]
    steps: NotRequired[list[StepEntry]]
    duration_seconds: NotRequired[float]

"""report.json: what was removed and kept, what the profile allows, what was verified and what was not."""

from __future__ import annotations

import os
from typing import cast

from . import messages, runtime_verify, shipping, syscalls, trim
from .facts import Facts, Verification
from .report_schema import (
    AppJSON,
    DefaultSeccompJSON,
    EnforcedJSON,
    FilesJSON,
    ImageJSON,
    InstallJSON,
    LevelJSON,
    LocalhostSeccompJSON,
    NaiveJSON,
    ObservabilityJSON,
    PushedJSON,
    Report,
    SizesJSON,
    TraceSkippedJSON,
    TraceTakenJSON,
    TrimJSON,
    UnreadableJSON,
    UntracedJSON,
    UnverifiedJSON,
    VerifiedJSON,
)
from .seccomp import DOCKER_DEFAULT_ALLOWED, MUST_REFUSE

#: The engine's output layout: every file and folder OUT holds, in the order README.md lists them.
OUTPUTS = (
    "Dockerfile",
    "image/",
    "repository/",
    "build.log",
    "build-naive.log",
    "push.log",
    "manifests/",
    "seccomp.json",
    "security-profiles-operator/",
    "audit.rules",
    "install.log",
    "trace/",
    "runs/",
    "report.json",
    "SUMMARY.md",
    "README.md",
    "pipeline.png",
)
#: The text outputs a pull request carries (globs relative to OUT), committed as `k8or/` in the app's
#: folder. Not `image/` (the trimmed tree: large, and rebuilt by repository/Dockerfile from the keep-lists)
#: nor OUT/Dockerfile (it copies image/), nor the PNG; nor manifests/secret/ (the `--env` values that look
#: secret: `manifests/*.yaml` does not reach into it).
TEXT_OUTPUTS = (
    "repository/*",
    "manifests/*.yaml",
    "seccomp.json",
    "security-profiles-operator/*.yaml",
    "audit.rules",
    "report.json",
    "SUMMARY.md",
    "README.md",
)


def _app(f: Facts) -> AppJSON:
    a, req = f.analysis, f.request
    return AppJSON(
        name=f.name,
        kind=a.kind.name,
        entrypoint=str(a.entrypoint) if a.entrypoint else None,
        source=req.source or os.path.relpath(req.app_dir.resolve(), req.out.resolve()),
        uid=f.uid,
        gid=f.uid,
        port=req.port,
        run=req.run,
        container_command=list(f.prepared.argv),
        probes=list(req.probes),
    )


def _files(f: Facts) -> FilesJSON:
    scan = f.analysis.files
    return FilesJSON(
        kept=scan.keep,
        redundant=scan.redundant,
        redundant_bytes=scan.redundant_bytes(),
        secrets_flagged_never_copied=scan.secrets,
        unreadable=[UnreadableJSON(path=rel, reason=why) for rel, why in sorted(scan.unreadable.items())],
    )


def _relative(value: object, host: dict[str, str]) -> object:
    if isinstance(value, dict):
        return {key: _relative(item, host) for key, item in value.items()}
    if isinstance(value, list):
        return [_relative(item, host) for item in value]
    if isinstance(value, str):
        for folder in sorted(host, key=len, reverse=True):
            value = value.replace(folder + "/", host[folder] + "/").replace(folder, host[folder])
    return value


def relative_paths(report: Report, host: dict[str, str]) -> Report:
    """The report with every host folder in `host` replaced by its stand-in: the report names paths
    relative to OUT (or `<app>`, `<scratch>`), never where they happen to live on this host."""
    return cast(Report, _relative(report, host))  # only strings change: the shape is the same


def _sizes(f: Facts) -> SizesJSON:
    layer = f.prepared.layer
    return SizesJSON(
        bytes_before=layer.bytes_before,
        bytes_after=layer.bytes_after,
        reduction_percent=round(100 * layer.reduction, 1),
        before_by_part=layer.before,
        removed_by_category=layer.removed,
        kept_by_category=layer.kept,
        kept_distributions=list(layer.kept_distributions),
        dropped_distributions=list(layer.dropped_distributions),
        app_layer="site-packages plus the app's own files" if f.prepared.traced else "the app's own files",
    )


def _trim(f: Facts) -> TrimJSON | None:
    layer, proof = f.prepared.layer, f.prepared.proof
    if layer.level is None or proof is None:
        return None
    levels = {
        name: LevelJSON(
            bytes_after=figures.bytes_after,
            reduction_percent=round(100 * layer.level_reduction(name), 1),
            removed_by_category=figures.removed,
        )
        for name, figures in layer.levels.items()
    }
    return TrimJSON(
        level=layer.level,
        levels=levels,
        untraced_requirements=[UntracedJSON(name=u.name, required_by=u.required_by) for u in layer.untraced],
        untraced_requirements_dropped=layer.level == trim.TRACED,
        unused_app_modules=list(layer.unused_app_modules),
        unused_app_modules_dropped=layer.level == trim.TRACED,
        untraced_shared_objects=list(layer.untraced_shared_objects),
        untraced_shared_objects_dropped=layer.level == trim.TRACED,
        closure_check=proof.closure.as_json(),
        reimport=proof.reimport.as_json(),
    )


_STREAMLIT_DRIVER = (
    "Streamlit's own websocket protocol (/_stcore/stream with streamlit's protobufs, waits for "
    "script_finished); no headless browser"
)


def _trace(f: Facts) -> TraceTakenJSON | TraceSkippedJSON:
    if f.traced is None:
        return TraceSkippedJSON(taken=False)
    trace, driver = f.traced.trace, f.analysis.kind.session_driver
    return TraceTakenJSON(
        taken=True,
        tool="strace -f (start-up, every probe, a user session, SIGTERM shutdown)",
        session_driver=driver or "none (HTTP probes only)",
        session_driver_detail=_STREAMLIT_DRIVER if driver == "streamlit-websocket" else None,
        syscalls_used=len(trace.syscalls),
        syscall_counts=dict(sorted(trace.calls.items())),
        files_opened=len(trace.opened),
        run=f.traced.run.as_json(),
        files="trace/files-opened.txt, trace/syscalls.json, trace/strace.log.gz",
    )


def _seccomp(f: Facts) -> LocalhostSeccompJSON | DefaultSeccompJSON:
    if f.profile is None or f.traced is None:
        return DefaultSeccompJSON(mode="RuntimeDefault", reason="no trace was taken", profile=None)
    allowed = f.profile.allowed
    _, unknown = syscalls.split_known(f.traced.trace.syscalls)
    return LocalhostSeccompJSON(
        mode="Localhost",
        localhost_profile=f.manifests.localhost_profile,
        profile="seccomp.json",
        spo_object="security-profiles-operator/seccompprofile.yaml",
        default_action="SCMP_ACT_ERRNO",
        allowed=allowed,
        allowed_count=len(allowed),
        traced_count=len(f.profile.traced),
        docker_default_allowed=DOCKER_DEFAULT_ALLOWED,
        fraction_of_docker_default=round(len(allowed) / DOCKER_DEFAULT_ALLOWED, 3),
        unknown_traced_names=sorted(unknown),
        syscall_table=syscalls.source(),
        runtime_base=f.profile.runtime.as_json() if f.profile.runtime else None,
    )


def _enforced(v: Verification) -> EnforcedJSON:
    e = v.enforced
    return EnforcedJSON(
        enforced_by="libseccomp (pyseccomp) filter loaded before execve; observed with strace -f",
        run=e.run.outcome.as_json(),
        denials=sum(e.run.denied.values()),
        denied_calls=e.run.denied,
        eperm_returns=e.run.eperm_returns,
        calls_observed=e.run.calls_observed,
        refusals=e.refusals,
        learned_from_enforced_run=list(e.learned),
        first_run_denials=dict(e.first_run_denials),
    )


def _verification(f: Facts) -> VerifiedJSON | UnverifiedJSON:
    v = f.verification
    if v is None:
        return UnverifiedJSON(trimmed=None, enforced=None)
    return VerifiedJSON(
        runtime={"as_uid": v.runtime.uid, "how": v.runtime.note},
        trimmed=v.trimmed.as_json(),
        enforced=_enforced(v),
    )


def _observability(f: Facts) -> ObservabilityJSON:
    kind = f.analysis.kind
    return ObservabilityJSON(
        structured_logs=kind.structured_log_env
        or {"LOG_FORMAT": "json (the app must honour it; nothing in its kind enforces it)"},
        structured_logs_note="a printf-style template: messages with quotes or newlines are not escaped"
        if kind.structured_log_env
        else None,
        metrics_path=kind.metrics_path,
        prometheus_annotations=bool(kind.metrics_path),
        call_trace=f"audit.rules keyed on UID {f.uid} (ausearch -k k8or-{f.name})",
    )


def _verified_claims(f: Facts, v: Verification) -> list[str]:
    passed = []
    trimmed, enforced = v.trimmed.passed, v.enforced
    if trimmed:
        passed.append("every probe passes from the trimmed tree")
    if enforced.run.outcome.passed and sum(enforced.run.denied.values()) == 0:
        passed.append("every probe passes under the enforced seccomp profile with zero denials")
    if v.runtime.uid is not None and trimmed:
        passed.append(f"the trimmed app runs as its dedicated UID/GID {f.uid} (not root)")
    if all(enforced.refusals.get(c, {}).get("refused") for c in MUST_REFUSE):
        passed.append(f"{' and '.join(MUST_REFUSE)} are refused (EPERM) under the profile")
    return passed


def _trim_claims(f: Facts) -> tuple[list[str], list[str]]:
    """What the trim's proofs showed: (passed, failed). A broken closure fails only at the safe level,
    where nothing may be missing; the traced level drops requirements by design (_trim_gaps)."""
    proof, level = f.prepared.proof, f.prepared.layer.level
    if proof is None:
        return [], []
    passed, failed = [], []
    closure, again = proof.closure, proof.reimport
    if closure.ran and closure.passed:
        passed.append(messages.CLOSURE_INTACT)
    elif closure.ran and level == trim.SAFE:
        failed.append(messages.CLOSURE_BROKEN.format(problems="; ".join(closure.problems[:5])))
    if again.proved and again.modules:
        passed.append(messages.REIMPORTED.format(count=again.modules))
    elif again.failed_after_trim:
        names = ", ".join(sorted(again.failed_after_trim)[:10])
        failed.append(messages.REIMPORT_FAILED.format(count=len(again.failed_after_trim), modules=names))
    return passed, failed


def _trim_gaps(f: Facts) -> list[str]:
    proof, layer = f.prepared.proof, f.prepared.layer
    if proof is None:
        return []
    gaps = []
    if not proof.closure.ran:
        gaps.append(messages.CLOSURE_NOT_CHECKED.format(why=proof.closure.why_not))
    if proof.reimport.error:
        gaps.append(messages.REIMPORT_NO_VERDICT.format(why=proof.reimport.error))
    if layer.level == trim.TRACED and layer.untraced:
        names = ", ".join(f"{u.name} (required by {u.required_by})" for u in layer.untraced)
        gaps.append(messages.UNTRACED_DROPPED.format(count=len(layer.untraced), names=names))
    if layer.level == trim.TRACED and layer.untraced_shared_objects:
        native = layer.untraced_shared_objects
        names = messages.listed(native, shown=5, where="trim.untraced_shared_objects")
        gaps.append(messages.UNTRACED_SHARED_OBJECTS_DROPPED.format(count=len(native), names=names))
    if layer.level == trim.TRACED and layer.unused_app_modules:
        modules = layer.unused_app_modules
        gaps.append(messages.UNTRACED_MODULES_DROPPED.format(count=len(modules), names=", ".join(modules)))
    return gaps


def _checks_passed(f: Facts) -> list[str]:
    passed = _verified_claims(f, f.verification) if f.verification is not None else []
    passed += _trim_claims(f)[0] + runtime_verify.claims(f.runtime_checks)
    return passed + [f"{r.name}: {r.detail}" for r in f.linted.results if r.ran and r.passed]


def _failed(f: Facts) -> list[str]:
    linters = [f"{r.name}: {r.detail}" for r in f.linted.results if r.ran and not r.passed]
    return linters + _trim_claims(f)[1] + runtime_verify.failures(f.runtime_checks)


def _not_verified(f: Facts) -> list[str]:
    """What the engine could not check here, in words a reviewer can act on."""
    items = list(f.not_verified) + _trim_gaps(f)
    if f.image.built is None:
        items.append(messages.NOT_BUILT.format(why=f.image.why_not_built))
    if f.image.built is not None and f.image.naive is None:
        items.append(messages.NAIVE_NOT_BUILT.format(why=f.image.why_no_naive))
    if f.verification is not None and f.profile is not None:
        runtime = f.verification.runtime
        if runtime.uid is None:
            items.append(f"the runs did not use the dedicated UID {f.uid}: {runtime.note}")
        items.append(
            f"the profile covers {f.profile.arch}, where it was traced; other architectures need their trace"
        )
    items += runtime_verify.gaps(f.runtime_checks, f.request.sandbox, f.image.built is not None)
    if not f.analysis.kind.metrics_path:
        items.append("metrics: the app kind serves no known Prometheus endpoint, so no scrape annotations")
    return items


def _naive(f: Facts) -> NaiveJSON:
    shipped = f.image
    return NaiveJSON(
        built=shipped.naive is not None,
        size_bytes=shipped.naive.size if shipped.naive else None,
        dockerfile=shipped.naive_dockerfile,
        log=shipping.NAIVE_LOG if shipped.naive_dockerfile else None,
        why_not=shipped.why_no_naive,
    )


def _image(f: Facts) -> ImageJSON:
    """The whole image as built (base included) beside the naive one, and where it was pushed."""
    built, naive, pushed = f.image.built, f.image.naive, f.image.pushed
    return ImageJSON(
        built=built is not None,
        why_not_built=f.image.why_not_built,
        builder="buildah bud (vfs storage, Docker image format)",
        base_image=f.image.base_image,
        base_digest=f.image.base_digest,
        reference=built.reference if built else None,
        image_id=built.image_id if built else None,
        size_bytes=built.size if built else None,
        log=shipping.BUILD_LOG if built else None,
        naive=_naive(f),
        smaller_than_naive_percent=round(100 * (1 - built.size / naive.size), 1) if built and naive else None,
        pushed=PushedJSON(destination=pushed.destination, digest=pushed.digest, pinned=pushed.pinned)
        if pushed
        else None,
    )


def _install(f: Facts) -> InstallJSON | None:
    return InstallJSON(installer=f.installed.venv.installer, log="install.log") if f.installed else None


def build(facts: Facts) -> Report:
    """The whole report (without the step log, which the pipeline adds once the last step ends)."""
    return Report(
        app=_app(facts),
        dependencies=facts.prepared.deps.as_json(),
        install=_install(facts),
        files=_files(facts),
        sizes=_sizes(facts),
        trim=_trim(facts),
        trace=_trace(facts),
        seccomp=_seccomp(facts),
        verification=_verification(facts),
        image=_image(facts),
        runtime_verification=[check.as_json() for check in facts.runtime_checks],
        checks={r.name: r.as_json() for r in facts.linted.results},
        checks_passed=_checks_passed(facts),
        checks_failed=_failed(facts),
        not_verified=_not_verified(facts),
        observability=_observability(facts),
        outputs=list(OUTPUTS),
    )

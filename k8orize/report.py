"""report.json: what was removed and kept, what the profile allows, what was verified and what was not."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from . import syscalls
from .seccomp import DOCKER_DEFAULT_ALLOWED, MUST_REFUSE

if TYPE_CHECKING:
    from .pipeline import Pipeline


def _app(p: Pipeline) -> dict:
    a = p.analysis
    return {
        "name": p.name,
        "kind": a.kind.name,
        "entrypoint": str(a.entrypoint) if a.entrypoint else None,
        "source": p.req.source or os.path.relpath(p.req.app_dir.resolve(), p.req.out.resolve()),
        "uid": p.uid,
        "gid": p.uid,
        "port": p.req.port,
        "run": p.req.run,
        "container_command": p.argv,
        "probes": list(p.req.probes),
    }


def _files(p: Pipeline) -> dict:
    scan = p.analysis.files
    return {
        "kept": scan.keep,
        "redundant": scan.redundant,
        "redundant_bytes": scan.redundant_bytes(),
        "secrets_flagged_never_copied": scan.secrets,
        "unreadable": [{"path": rel, "reason": why} for rel, why in sorted(scan.unreadable.items())],
    }


def relative_paths(data: Any, host: dict[str, str]) -> Any:
    """data with every host folder in `host` replaced by its stand-in: the report names paths
    relative to OUT (or `<app>`, `<scratch>`), never where they happen to live on this host."""
    if isinstance(data, dict):
        return {key: relative_paths(value, host) for key, value in data.items()}
    if isinstance(data, list):
        return [relative_paths(value, host) for value in data]
    if isinstance(data, str):
        for folder in sorted(host, key=len, reverse=True):
            data = data.replace(folder + "/", host[folder] + "/").replace(folder, host[folder])
    return data


def _sizes(p: Pipeline) -> dict:
    result = p.trim if p.trim is not None else p.untraced_trim
    data = result.as_dict()
    data["app_layer"] = (
        "site-packages plus the app's own files" if p.trim is not None else "the app's own files"
    )
    return data


def _trace(p: Pipeline) -> dict:
    if p.trace is None:
        return {"taken": False}
    outcome = p.results.get("traced_run")
    return {
        "taken": True,
        "tool": "strace -f (start-up, every probe, a user session, SIGTERM shutdown)",
        "session_driver": p.analysis.kind.session_driver or "none (HTTP probes only)",
        "session_driver_detail": "Streamlit's own websocket protocol (/_stcore/stream with streamlit's "
        "protobufs, waits for script_finished); no headless browser"
        if p.analysis.kind.session_driver == "streamlit-websocket"
        else None,
        "syscalls_used": len(p.trace.syscalls),
        "syscall_counts": dict(sorted(p.trace.calls.items())),
        "files_opened": len(p.trace.opened),
        "run": outcome.as_dict() if outcome else None,
        "files": "trace/files-opened.txt, trace/syscalls.json, trace/strace.log.gz",
    }


def _seccomp(p: Pipeline) -> dict:
    if p.profile is None:
        return {"mode": "RuntimeDefault", "reason": "no trace was taken", "profile": None}
    allowed = p.profile.allowed
    _, unknown = syscalls.split_known(p.trace.syscalls)
    return {
        "mode": "Localhost",
        "localhost_profile": p.localhost_profile,
        "profile": "seccomp.json",
        "spo_object": "security-profiles-operator/seccompprofile.yaml",
        "default_action": "SCMP_ACT_ERRNO",
        "allowed": allowed,
        "allowed_count": len(allowed),
        "traced_count": len(p.profile.traced),
        "docker_default_allowed": DOCKER_DEFAULT_ALLOWED,
        "fraction_of_docker_default": round(len(allowed) / DOCKER_DEFAULT_ALLOWED, 3),
        "unknown_traced_names": sorted(unknown),
        "syscall_table": syscalls.source(),
    }


def _verification(p: Pipeline) -> dict:
    if p.trace is None:
        return {"trimmed": None, "enforced": None}
    enforced = p.results.get("enforced", {})
    outcome = enforced.get("outcome")
    runtime = {"as_uid": p.runtime.uid, "how": p.runtime.note}
    return {
        "runtime": runtime,
        "trimmed": p.trimmed_run.as_dict() if p.trimmed_run else None,
        "enforced": {
            "enforced_by": "libseccomp (pyseccomp) filter loaded before execve; observed with strace -f",
            "run": outcome.as_dict() if outcome else None,
            "denials": sum(enforced.get("denied", {}).values()),
            "denied_calls": enforced.get("denied", {}),
            "eperm_returns": enforced.get("eperm_returns", {}),
            "calls_observed": enforced.get("calls_observed", 0),
            "refusals": enforced.get("refusals", {}),
            "learned_from_enforced_run": enforced.get("learned_from_enforced_run", []),
            "first_run_denials": enforced.get("first_run_denials", {}),
        },
    }


def _observability(p: Pipeline) -> dict:
    kind = p.analysis.kind
    return {
        "structured_logs": kind.structured_log_env
        or {"LOG_FORMAT": "json (the app must honour it; nothing in its kind enforces it)"},
        "structured_logs_note": "a printf-style template: messages with quotes or newlines are not escaped"
        if kind.structured_log_env
        else None,
        "metrics_path": kind.metrics_path,
        "prometheus_annotations": bool(kind.metrics_path),
        "call_trace": f"audit.rules keyed on UID {p.uid} (ausearch -k k8or-{p.name})",
    }


def _checks_passed(p: Pipeline, verification: dict) -> list[str]:
    passed = []
    if p.trace is not None:
        if verification["trimmed"] and verification["trimmed"]["passed"]:
            passed.append("every probe passes from the trimmed tree")
        enforced = verification["enforced"]
        if enforced["run"] and enforced["run"]["passed"] and enforced["denials"] == 0:
            passed.append("every probe passes under the enforced seccomp profile with zero denials")
        if p.runtime.uid is not None and verification["trimmed"]["passed"]:
            passed.append(f"the trimmed app runs as its dedicated UID/GID {p.uid} (not root)")
        if all(enforced["refusals"].get(c, {}).get("refused") for c in MUST_REFUSE):
            passed.append(f"{' and '.join(MUST_REFUSE)} are refused (EPERM) under the profile")
    for name, result in p.results.get("checks", {}).items():
        if result["ran"] and result["passed"]:
            passed.append(f"{name}: {result['detail']}")
    return passed


def _failed(p: Pipeline) -> list[str]:
    return [
        f"{name}: {r['detail']}"
        for name, r in p.results.get("checks", {}).items()
        if r["ran"] and not r["passed"]
    ]


def _not_verified(p: Pipeline) -> list[str]:
    """What the engine could not check here, in words a reviewer can act on."""
    items = list(p.not_verified)
    if p.trace is not None:
        if p.runtime.uid is None:
            items.append(f"the runs did not use the dedicated UID {p.uid}: {p.runtime.note}")
        items.append(
            "the image was not built (no container runtime here); the trimmed tree it copies was run"
        )
        items.append(
            f"the profile covers {p.profile.arch}, where it was traced; other architectures need their trace"
        )
    if p.req.sandbox:
        items.append(f"the {p.req.sandbox} RuntimeClass (runsc) was not exercised: no gVisor here")
    if not p.analysis.kind.metrics_path:
        items.append("metrics: the app kind serves no known Prometheus endpoint, so no scrape annotations")
    return items


_OUTPUTS = (
    "Dockerfile",
    "image/",
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


def build(p: Pipeline) -> dict:
    """The whole report as a JSON-able dict."""
    verification = _verification(p)
    return {
        "app": _app(p),
        "dependencies": vars(p.deps).copy(),
        "install": {"installer": p.venv.installer, "log": "install.log"} if p.venv else None,
        "files": _files(p),
        "sizes": _sizes(p),
        "trace": _trace(p),
        "seccomp": _seccomp(p),
        "verification": verification,
        "checks": p.results.get("checks", {}),
        "checks_passed": _checks_passed(p, verification),
        "checks_failed": _failed(p),
        "not_verified": _not_verified(p),
        "observability": _observability(p),
        "outputs": list(_OUTPUTS),
    }


def _mb(value: int) -> str:
    return f"{value / 1e6:.1f} MB"


def _summary_facts(data: dict) -> list[str]:
    sizes, deps, files = data["sizes"], data["dependencies"], data["files"]
    redundant = sum(len(v) for v in files["redundant"].values())
    return [
        f"- App layer: {_mb(sizes['bytes_before'])} -> {_mb(sizes['bytes_after'])} "
        f"({sizes['reduction_percent']}% smaller)",
        f"- Unused dependencies: {', '.join(deps['unused']) or 'none'}; "
        f"missing: {', '.join(deps['missing']) or 'none'}",
        f"- Redundant files dropped: {redundant}; "
        f"secrets flagged (never copied): {len(files['secrets_flagged_never_copied'])}",
        *_summary_unreadable(files.get("unreadable", [])),
    ]


def _summary_unreadable(unreadable: list[dict], shown: int = 5) -> list[str]:
    if not unreadable:
        return []
    items = "; ".join(f"`{u['path']}`: {u['reason']}" for u in unreadable[:shown])
    more = f"; and {len(unreadable) - shown} more (report.json)" if len(unreadable) > shown else ""
    return [f"- Files not read: {items}{more}"]


def _summary_seccomp(data: dict) -> list[str]:
    sec = data["seccomp"]
    if sec["mode"] != "Localhost":
        return ["- Seccomp: RuntimeDefault (no trace was taken)"]
    enforced = data["verification"]["enforced"]
    refused = all(r.get("refused") for r in enforced["refusals"].values())
    return [
        f"- Seccomp: {sec['allowed_count']} syscalls allowed "
        f"(Docker's default allows ~{sec['docker_default_allowed']})",
        f"- Under enforcement: {enforced['denials']} denials; mount/ptrace refused: {refused}",
    ]


def summary_text(data: dict) -> str:
    """A short markdown-ish summary for a chat reply."""
    app = data["app"]
    lines = [f"**k8orized `{app['name']}`** ({app['kind']} app, UID/GID {app['uid']})", ""]
    lines += _summary_facts(data) + _summary_seccomp(data) + [""]
    lines += [f"- passed: {item}" for item in data["checks_passed"]]
    lines += [f"- FAILED: {item}" for item in data["checks_failed"]]
    lines += [f"- not verified: {item}" for item in data["not_verified"]]
    if "duration_seconds" in data:
        lines.append(f"\nDone in {data['duration_seconds']:.0f}s.")
    return "\n".join(lines)


_OUT_FILES = (
    ("`Dockerfile`, `image/`", "the image: the trimmed app layer (`image/site-packages`, `image/app`)"),
    ("`manifests/`", "Kubernetes objects, one concern per file"),
    ("`seccomp.json`", "the OCI seccomp profile (an allow-list; everything else fails with EPERM)"),
    ("`security-profiles-operator/`", "the same profile as a Security Profiles Operator SeccompProfile"),
    ("`audit.rules`", "auditd rules keyed on the app's UID: the host-side profile of the app user"),
    (
        "`install.log`, `trace/`, `runs/`",
        "the install log, the syscall trace and files opened, each run's output",
    ),
)


def output_readme(data: dict) -> str:
    """README.md for OUT: what each file is and how to use it, so the folder can be committed as is."""
    app, sec = data["app"], data["seccomp"]
    lines = [
        f"# {app['name']}: k8orized by k8or",
        "",
        f"Level-3 k8orization of a {app['kind']} app, running as UID/GID {app['uid']}.",
        "`report.json` has every figure and says what was verified; `SUMMARY.md` is the short version,",
        "`pipeline.png` the steps.",
        "",
        "| path | what it is |",
        "|---|---|",
        *[f"| {path} | {what} |" for path, what in _OUT_FILES],
        "",
        "    docker build -t IMAGE . && docker push IMAGE    # then pin IMAGE@sha256:... in manifests/",
    ]
    if sec["mode"] == "Localhost":
        lines.append(
            f"    kubectl apply -f security-profiles-operator/   # the pods use {sec['localhost_profile']}"
        )
    lines += [
        "    kubectl apply -f manifests/",
        "    sudo cp audit.rules /etc/audit/rules.d/k8or.rules && sudo augenrules --load",
    ]
    return "\n".join(lines) + "\n"

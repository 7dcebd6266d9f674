"""SUMMARY.md (also the chat reply) and OUT's README.md, rendered from report.json."""

from __future__ import annotations

from clock import units

from . import messages
from .report_schema import Report, RuntimeCheckJSON, TrimJSON, UnreadableJSON


def _mb(value: int) -> str:
    return units.size(value)


def _summary_facts(data: Report) -> list[str]:
    sizes, deps, files = data["sizes"], data["dependencies"], data["files"]
    redundant = sum(len(v) for v in files["redundant"].values())
    return [
        f"- App layer: {_mb(sizes['bytes_before'])} -> {_mb(sizes['bytes_after'])} "
        f"({sizes['reduction_percent']}% smaller)",
        f"- Unused dependencies: {', '.join(deps['unused']) or 'none'}; "
        f"missing: {', '.join(deps['missing']) or 'none'}",
        f"- Redundant files dropped: {redundant}; "
        f"secrets flagged (never copied): {len(files['secrets_flagged_never_copied'])}",
        *_summary_unreadable(files["unreadable"]),
        *(_summary_trim(data["trim"]) if data["trim"] else []),
    ]


def _level(trim: TrimJSON, name: str) -> str:
    level = trim["levels"][name]
    return f"{_mb(level['bytes_after'])} ({level['reduction_percent']}% smaller)"


def _summary_trim(trim: TrimJSON) -> list[str]:
    """The level built, what each gives, its proofs, and (traced) what may fail."""
    closure, again = trim["closure_check"], trim["reimport"]
    intact = "yes (pip check)" if closure["passed"] else ("NO" if closure["ran"] else "not checked")
    safe, traced = _level(trim, "safe"), _level(trim, "traced")
    reimported = f"{again['imported_again']}/{again['modules']}"
    lines = [
        messages.TRIM_LINE.format(level=trim["level"], safe=safe, traced=traced),
        messages.TRIM_SAFE_PROOF.format(closure=intact, reimport=reimported),
    ]
    if trim["untraced_requirements_dropped"] and trim["untraced_requirements"]:
        names = [f"{u['name']} (required by {u['required_by']})" for u in trim["untraced_requirements"]]
        lines.append(messages.TRIM_TRACED_WARNING.format(names=messages.listed(names)))
    if trim["untraced_shared_objects_dropped"] and trim["untraced_shared_objects"]:
        lines.append(
            messages.TRIM_TRACED_SHARED_OBJECTS_WARNING.format(
                names=messages.listed(trim["untraced_shared_objects"])
            )
        )
    if trim["unused_app_modules"]:
        lines.append(messages.UNUSED_APP_MODULES.format(names=messages.listed(trim["unused_app_modules"])))
    return lines


def _summary_image(data: Report) -> list[str]:
    """The whole image beside the naive one, and the pinned reference once pushed."""
    image = data["image"]
    if image["built"] is False or image["size_bytes"] is None:
        return [f"- Image: not built ({image['why_not_built']})"]
    naive = image["naive"]["size_bytes"]
    versus = (
        f" vs {_mb(naive)} naive (`pip install -r requirements.txt` on the same base): "
        f"{image['smaller_than_naive_percent']}% smaller"
        if naive
        else " (the naive baseline was not built)"
    )
    pushed = f"; pushed, pinned as `{image['pushed']['pinned']}`" if image["pushed"] else ""
    return [f"- Whole image: {_mb(image['size_bytes'])}{versus}{pushed}"]


def _summary_unreadable(unreadable: list[UnreadableJSON], shown: int = 5) -> list[str]:
    if not unreadable:
        return []
    items = "; ".join(f"`{u['path']}`: {u['reason']}" for u in unreadable[:shown])
    more = f"; and {len(unreadable) - shown} more (report.json)" if len(unreadable) > shown else ""
    return [f"- Files not read: {items}{more}"]


def _summary_seccomp(data: Report) -> list[str]:
    sec, enforced = data["seccomp"], data["verification"]["enforced"]
    if sec["mode"] != "Localhost" or enforced is None:
        return ["- Seccomp: RuntimeDefault (no trace was taken)"]
    refused = all(r.get("refused") for r in enforced["refusals"].values())
    base = sec["runtime_base"]
    own = (
        f", {len(base['syscalls'])} of them {base['runtime']} {base['version'].split()[0]}'s own"
        if base
        else ""
    )
    return [
        f"- Seccomp: {sec['allowed_count']} syscalls allowed{own} "
        f"(Docker's default allows ~{sec['docker_default_allowed']})",
        f"- Under enforcement: {enforced['denials']} denials; mount/ptrace refused: {refused}",
        *[_summary_runtime(check) for check in data["runtime_verification"]],
    ]


def _summary_runtime(check: RuntimeCheckJSON) -> str:
    run = check["shipped"]["run"]
    probes = f"{sum(p['ok'] for p in run['probes'])}/{len(run['probes'])} probes" if run else "never ready"
    denials = "unobserved" if check["denials"] is None else check["denials"]
    refused = all(r.get("refused") for r in check["refusals"].values())
    verdict = "passed" if check["passed"] else "FAILED"
    return (
        f"- Under {check['runtime']} {check['version'].split()[0]} (the built image): {verdict}; {probes}, "
        f"{denials} denials, mount/ptrace refused: {refused}"
    )


def summary_text(data: Report) -> str:
    """A short markdown-ish summary for a chat reply."""
    app = data["app"]
    lines = [f"**k8orized `{app['name']}`** ({app['kind']} app, UID/GID {app['uid']})", ""]
    lines += _summary_facts(data) + _summary_image(data) + _summary_seccomp(data) + [""]
    lines += [f"- passed: {item}" for item in data["checks_passed"]]
    lines += [f"- FAILED: {item}" for item in data["checks_failed"]]
    lines += [f"- not verified: {item}" for item in data["not_verified"]]
    if "duration_seconds" in data:
        lines.append(f"\nDone in {units.duration(data['duration_seconds'])}.")
    return "\n".join(lines)


_OUT_FILES = (
    ("`Dockerfile`, `image/`", "the image: the trimmed app layer (`image/site-packages`, `image/app`)"),
    (
        "`repository/`",
        "the image built in the app's own repository (a pull request commits OUT as `k8or/` in the app's "
        "folder): its `Dockerfile` installs the app's requirements, then keeps the verified distributions "
        "and files (`keep-list.txt`, `keep-files.txt`, applied by `keep.py`)",
    ),
    (
        "`manifests/`",
        "Kubernetes objects, one concern per file; `manifests/secret/`: the Secret with the `--env` values "
        "that look secret (never committed)",
    ),
    ("`seccomp.json`", "the OCI seccomp profile (an allow-list; everything else fails with EPERM)"),
    ("`security-profiles-operator/`", "the same profile as a Security Profiles Operator SeccompProfile"),
    ("`audit.rules`", "auditd rules keyed on the app's UID: the host-side profile of the app user"),
    (
        "`install.log`, `trace/`, `runs/`",
        "the install log, the syscall trace and files opened, each run's output",
    ),
)


def output_readme(data: Report) -> str:
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
        "    # or, in the app's folder with this folder committed as k8or/:",
        "    docker build -f k8or/repository/Dockerfile -t IMAGE .",
    ]
    if sec["mode"] == "Localhost":
        lines.append(
            f"    kubectl apply -f security-profiles-operator/   # the pods use {sec['localhost_profile']}"
        )
    lines += [
        "    kubectl apply -f manifests/secret/   # when it exists; elsewhere create the Secret by hand",
        "    kubectl apply -f manifests/",
        "    sudo cp audit.rules /etc/audit/rules.d/k8or.rules && sudo augenrules --load",
    ]
    return "\n".join(lines) + "\n"

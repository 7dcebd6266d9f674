"""How cluster results read in chat. One place for the wording of every cluster reply."""

from __future__ import annotations

from cluster.migrate import MigrationResult
from cluster.preflight import Check
from cluster.rollback import Revision
from cluster.rollout import COMPLETE, RUNNING, RolloutProgress
from cluster.status import AppStatus, NamespaceStatus
from cluster.volumes import ClaimStatus
from policy.audit import AuditEntry


def checks(target: str, namespace: str, results: list[Check]) -> str:
    ok = all(c.ok for c in results)
    head = f"**Preflight** for `{target}` / `{namespace}`: " + ("all good." if ok else "needs attention.")
    return "\n".join([head, ""] + [f"- {c.line}" for c in results])


def claim(status: ClaimStatus) -> str:
    if status.bound:
        where = f"{status.capacity}, class {status.storage_class}"
        return f"✓ Claim `{status.name}` is Bound to `{status.volume}` ({where})."
    if status.state == "waiting":
        return f"⏳ Claim `{status.name}` waits for its first pod: {status.reason}"
    return f"✗ Claim `{status.name}` is {status.phase}: {status.reason}"


def progress(p: RolloutProgress, action: str = "Rollout") -> str:
    icon = {RUNNING: "⏳", COMPLETE: "✓"}.get(p.state, "✗")
    lines = [
        f"{icon} {action} of `{p.app}` (revision {p.revision or '?'}): {p.state}",
        f"updated {p.updated}/{p.desired} · ready {p.ready}/{p.desired} · "
        f"available {p.available}/{p.desired}",
    ]
    if p.state not in (RUNNING, COMPLETE) and p.reason:
        lines.append(f"reason: {p.reason}" + (f" — {p.message}" if p.message and not p.problem else ""))
    if p.problem:
        lines.append(p.problem.line)
    return "\n".join(lines)


def app(s: AppStatus) -> str:
    lines = [
        f"**{s.name}** — {s.available}/{s.desired} available, {s.updated} updated, revision {s.revision}, "
        f"age {s.age}",
        f"image `{s.image}`",
        f"pods: {s.phases}; restarts {s.restarts}",
    ]
    for pod in s.pods:
        lines.append(
            f"- `{pod.name}` {pod.phase}{' ready' if pod.ready else ''}, {pod.restarts} restarts"
            + (f", {pod.reason}" if pod.reason else "")
        )
    if s.warnings:
        lines.append("recent warnings:")
        lines += [f"- {w.line}" for w in s.warnings]
    return "\n".join(lines)


def namespace(ns: NamespaceStatus) -> str:
    if not ns.apps:
        return f"No deployments in `{ns.cluster}` / `{ns.namespace}`."
    healthy = sum(a.healthy for a in ns.apps)
    lines = [f"**{ns.namespace}** on `{ns.cluster}`: {healthy}/{len(ns.apps)} apps healthy", ""]
    for a in ns.apps:
        mark = "✓" if a.healthy else "✗"
        lines.append(
            f"- {mark} `{a.name}` {a.available}/{a.desired} available, rev {a.revision}, `{a.image}`, "
            f"{a.phases}, {a.restarts} restarts, age {a.age}"
        )
    if ns.warnings:
        lines += ["", "recent warnings:"] + [f"- {w.line}" for w in ns.warnings]
    return "\n".join(lines)


def revisions(app_name: str, items: list[Revision]) -> str:
    lines = [f"Revisions of `{app_name}` (roll back with `rollback {app_name} --to-revision N`):"]
    for r in reversed(items):
        lines.append(f"- {r.number}: `{r.image}`, {r.age} old" + (" ← current" if r.current else ""))
    return "\n".join(lines)


def migration(result: MigrationResult) -> str:
    return ("✓ " if result.match else "✗ ") + result.line


def audit(entries: list[AuditEntry]) -> str:
    if not entries:
        return "The audit log is empty."
    return "\n".join(["Latest audit entries:"] + [f"- {e.line}" for e in entries])

"""How cluster results read in chat. One place for the wording of every cluster reply."""

from __future__ import annotations

from cluster.migrate import MigrationResult
from cluster.preflight import Check
from cluster.rollback import Revision
from cluster.rollout import COMPLETE, RUNNING, RolloutProgress
from cluster.status import AppStatus, NamespaceStatus, PodSummary
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
    if status.state == "pending" and status.fix:
        return f"⏳ Claim `{status.name}` is still {status.phase}: {status.reason}\n{status.fix}"
    fix = f"\n{status.fix}" if status.fix else ""
    return f"✗ Claim `{status.name}` is {status.phase}: {status.reason}{fix}"


def counts(updated: int, ready: int, available: int, desired: int) -> str:
    """Replica counts a reader can trust: during a surge there are more pods than wanted, and the
    line says why rather than "ready 2/1"."""
    line = f"updated {updated}/{desired} · ready {min(ready, desired)}/{desired}"
    line += f" · available {min(available, desired)}/{desired}"
    extra = max(ready, available) - desired
    if extra > 0:
        line += f" · {desired + extra} pods for {desired} wanted: a rollout is replacing them"
    return line


def revision(number: str) -> str:
    """`revision 3`; before the controller has numbered the Deployment, that said plainly."""
    return f"revision {number}" if number else "revision not numbered yet (the controller has not seen it)"


def progress(p: RolloutProgress, action: str = "Rollout") -> str:
    icon = {RUNNING: "⏳", COMPLETE: "✓"}.get(p.state, "✗")
    lines = [
        f"{icon} {action} of `{p.app}` ({revision(p.revision)}): {p.state}",
        counts(p.updated, p.ready, p.available, p.desired),
    ]
    if p.state not in (RUNNING, COMPLETE) and p.reason:
        lines.append(f"reason: {p.reason}" + (f" — {p.message}" if p.message and not p.problem else ""))
    if p.problem:
        lines.append(p.problem.line)
    return "\n".join(lines)


def _rollout(s: AppStatus) -> str:
    """What the app's rollout is doing, when it is not simply done: "" for a complete, healthy one."""
    failing = s.failing
    pod = f"pod `{failing.name}` is {failing.state}" if failing is not None else ""
    if s.rollout_failed:
        why = s.condition_message or "no progress in time"
        return f"rollout failed: ProgressDeadlineExceeded ({why})" + (f"; {pod}" if pod else "")
    if pod:
        return ("rollout stuck: " if s.rolling else "") + pod
    if s.rolling:
        return f"{max(s.total, s.desired)} pods for {s.desired} wanted: a rollout is replacing them"
    return ""


def rollout_note(s: AppStatus) -> str:
    """The app's rollout line with its mark, or "" for a complete, healthy one."""
    if not (rollout := _rollout(s)):
        return ""
    return f"✗ {rollout}" if s.rollout_failed or s.failing else f"⏳ {rollout}"


def pod_line(pod: PodSummary) -> str:
    state = pod.state + (" ready" if pod.ready else "")
    if pod.crash_looping:
        last = f"; last exit: {pod.last_exit}" if pod.last_exit else ""
        return f"- `{pod.name}` crash-looping ({pod.restarts} restarts{last})"
    reason = f", {pod.reason}" if pod.reason and pod.reason != pod.state else ""
    return f"- `{pod.name}` {state}, {pod.restarts} restarts{reason}"


def app(s: AppStatus) -> str:
    lines = [
        f"**{s.name}** — {min(s.available, s.desired)}/{s.desired} available, {s.updated} updated, "
        f"{revision(s.revision)}, age {s.age}",
        f"image `{s.image}`",
        f"pods: {s.phases}; restarts {s.restarts}",
    ]
    if note := rollout_note(s):
        lines.insert(1, note)
    lines += [pod_line(pod) for pod in s.pods]
    if s.warnings:
        lines.append("Recent warnings:")
        lines += [f"- {w.line}" for w in s.warnings]
    return "\n".join(lines)


def namespace(ns: NamespaceStatus) -> str:
    if ns.missing:
        return (
            f"Namespace `{ns.namespace}` does not exist in `{ns.cluster}`. Choose another with `ns <name>`."
        )
    if not ns.apps:
        return f"No deployments in `{ns.cluster}` / `{ns.namespace}`."
    healthy = sum(a.healthy for a in ns.apps)
    lines = [f"**{ns.namespace}** on `{ns.cluster}`: {healthy}/{len(ns.apps)} apps healthy", ""]
    lines += [f"- {namespace_app_line(a)}" for a in ns.apps]
    if ns.warnings:
        lines += ["", "Recent warnings:"] + [f"- {w.line}" for w in ns.warnings]
    return "\n".join(lines)


def namespace_app_line(a: AppStatus) -> str:
    """One app of `status` without an app: mark, name, counts, revision, image, pods, age, rollout."""
    mark = "✓" if a.healthy else "✗"
    rev = f"rev {a.revision}" if a.revision else "rev not numbered yet"
    return (
        f"{mark} `{a.name}` {min(a.available, a.desired)}/{a.desired} available, {rev}, `{a.image}`, "
        f"{a.phases}, {a.restarts} restarts, age {a.age}" + (f"; {r}" if (r := _rollout(a)) else "")
    )


def revisions_head(app_name: str) -> str:
    return f"Revisions of `{app_name}` (roll back with `rollback {app_name} --to-revision N`):"


def revision_line(r: Revision) -> str:
    return f"{r.number}: `{r.image}`, {r.age} old" + (" ← current" if r.current else "")


def revisions(app_name: str, items: list[Revision]) -> str:
    return "\n".join([revisions_head(app_name), *(f"- {revision_line(r)}" for r in reversed(items))])


def migration(result: MigrationResult) -> str:
    return ("✓ " if result.match else "✗ ") + result.line


def audit(entries: list[AuditEntry]) -> str:
    if not entries:
        return "The audit log is empty."
    return "\n".join(["Latest audit entries:"] + [f"- {e.line}" for e in entries])

"""What `logs`, `events` and `describe` say: every user-facing line of the on-call read commands."""

from __future__ import annotations

from cluster.describe import AppDescription, ContainerState, PodState
from cluster.events import EventLine, RecentEvents
from cluster.logs import AppLogs
from cluster.names import MAX_LINES

LINES_OUT_OF_RANGE = "`--lines` takes 1 to {most} lines (you asked for {asked}). Usage: `{usage}`"
NO_APP = "✗ {problem} `status` lists the apps here; `ns <namespace>` switches namespace."
NOTHING_TO_READ = "✗ {problem}"
LOGS_HEAD = "**Logs** of `{app}` — pod `{pod}`, container `{container}`{which}{why}:"
PREVIOUS = " (previous instance)"
WHY = ", chosen for its {reason}"
NO_LINES = "_(no output{which})_"
LEFT_OUT_ATTACHED = "{left} earlier lines are in the attached `{name}`."
LEFT_OUT = "{left} earlier lines left out here: ask for fewer with `--lines`, or read them with kubectl."
OTHER_CONTAINERS = "Other containers: {names} (`--container NAME`)."
NO_EVENTS_APP = "No recent events about `{app}` in `{namespace}`."
NO_EVENTS = "No recent events in `{namespace}` on `{cluster}`."
EVENTS_HEAD_APP = "**Events** of `{app}` in `{namespace}`, newest first:"
EVENTS_HEAD = "**Events** in `{namespace}` on `{cluster}`, newest first:"


def lines_out_of_range(asked: int, usage: str) -> str:
    return LINES_OUT_OF_RANGE.format(most=MAX_LINES, asked=asked, usage=usage)


def logs_head(result: AppLogs) -> str:
    which = PREVIOUS if result.previous else ""
    why = WHY.format(reason=result.why) if result.why else ""
    return LOGS_HEAD.format(app=result.app, pod=result.pod, container=result.container, which=which, why=why)


def logs_body(result: AppLogs, lines: tuple[str, ...], footer: str) -> str:
    """The head, the lines in a code block, and what was left out or what else there is."""
    if not result.lines:
        parts = [logs_head(result), NO_LINES.format(which=PREVIOUS if result.previous else "")]
    else:
        parts = [logs_head(result), "```", *lines, "```"]
    others = [c for c in result.containers if c != result.container]
    if others:
        parts.append(OTHER_CONTAINERS.format(names=", ".join(f"`{c}`" for c in others)))
    if footer:
        parts.append(footer)
    return "\n".join(parts)


def left_out(left: int, file_name: str | None) -> str:
    if file_name:
        return LEFT_OUT_ATTACHED.format(left=left, name=file_name)
    return LEFT_OUT.format(left=left)


def event_line(e: EventLine, with_object: bool = True) -> str:
    """`- 2m ⚠ BackOff pod/web-1: Back-off restarting failed container (x5)`."""
    mark = "⚠ " if e.warning else ""
    about = f" {e.kind.lower()}/{e.name}" if with_object else ""
    times = f" (x{e.count})" if e.count > 1 else ""
    return f"- {e.age} {mark}{e.reason}{about}: {e.message}{times}"


def events(result: RecentEvents) -> str:
    if not result.events:
        if result.app:
            return NO_EVENTS_APP.format(app=result.app, namespace=result.namespace)
        return NO_EVENTS.format(namespace=result.namespace, cluster=result.cluster)
    if result.app:
        head = EVENTS_HEAD_APP.format(app=result.app, namespace=result.namespace)
    else:
        head = EVENTS_HEAD.format(namespace=result.namespace, cluster=result.cluster)
    return "\n".join([head, *(event_line(e) for e in result.events)])


def _container(c: ContainerState) -> str:
    now = c.state + (
        f" ({c.reason}" + (f", exit {c.exit_code}" if c.exit_code is not None else "") + ")"
        if c.reason
        else ""
    )
    last = ""
    if c.last_reason:
        last = f"; last ended {c.last_reason}" + (
            f", exit {c.last_exit_code}" if c.last_exit_code is not None else ""
        )
    ready = "ready" if c.ready else "not ready"
    return f"  - `{c.name}`: {now}, {ready}, {c.restarts} restarts{last}"


def _pod(p: PodState) -> list[str]:
    where = f" on `{p.node}`" if p.node else " on no node (not scheduled)"
    head = f"- `{p.name}` {p.phase}, ready {p.ready}, {p.restarts} restarts, age {p.age}{where}"
    lines = [head]
    if p.reason:
        lines.append(f"  - {p.reason}: {p.message}" if p.message else f"  - {p.reason}")
    lines += [_container(c) for c in p.containers]
    return lines


def describe(d: AppDescription) -> str:
    lines = [
        f"**{d.name}** in `{d.namespace}` on `{d.cluster}` — revision {d.revision}, age {d.age}",
        f"image `{d.image}` · {d.strategy}",
        f"replicas: {d.desired} desired · {d.updated} updated · {d.ready} ready · {d.available} available",
        "",
        "**Conditions**",
    ]
    lines += [
        f"- {c.type} {c.status}"
        + (f" ({c.reason})" if c.reason else "")
        + (f": {c.message}" if c.message else "")
        for c in d.conditions
    ] or ["- none reported yet"]
    lines += ["", "**ReplicaSets**"]
    lines += [
        f"- `{rs.name}` revision {rs.revision}: {rs.ready}/{rs.desired} ready, `{rs.image}`, age {rs.age}"
        for rs in d.replica_sets
    ] or ["- none"]
    lines += ["", "**Pods**"]
    pods = [line for p in d.pods for line in _pod(p)]
    lines += pods or ["- none: the app has no pods (scaled to 0, or none created yet)"]
    lines += ["", "**Recent events**"]
    lines += [event_line(e) for e in d.events] or ["- none"]
    return "\n".join(lines)

"""Reading core/v1 Events about an object: the "why" behind a Pending claim or a failing pod, and
`events [app]`: the namespace's newest events, or an app's (its Deployment, ReplicaSets and pods).

Events come in two shapes: the core/v1 recorder's (count, lastTimestamp, second precision) and the
events.k8s.io/v1 library's, as the scheduler writes them (eventTime in microseconds, a `series`
with its count and lastObservedTime, lastTimestamp null). Both are read as one EventLine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .apps import read_app
from .errors import api_errors
from .kube import Kube, connect
from .objects import meta
from .target import ClusterTarget
from .timefmt import age

DEFAULT_EVENTS = 20

if TYPE_CHECKING:  # the Kubernetes client is imported at the first cluster call, not at start
    from kubernetes.client import CoreV1Event


@dataclass(frozen=True)
class EventLine:
    """One event, as status and failure reports show it."""

    kind: str
    name: str
    type: str
    reason: str
    message: str
    count: int
    last_seen: dt.datetime | None

    @property
    def line(self) -> str:
        times = f" (x{self.count})" if self.count > 1 else ""
        return f"{self.reason} {self.kind.lower()}/{self.name}: {self.message}{times}"

    @property
    def age(self) -> str:
        """How long ago it was last seen, as kubectl shows it (45s, 12m, 3h)."""
        return age(self.last_seen)

    @property
    def warning(self) -> bool:
        return self.type == "Warning"


def _when(event: CoreV1Event) -> dt.datetime | None:
    """When it was last seen: the series' last observation, the last timestamp, when it happened."""
    series = event.series.last_observed_time if event.series else None
    return (
        series
        or event.last_timestamp
        or event.event_time
        or event.first_timestamp
        or meta(event).creation_timestamp
    )


def to_line(event: CoreV1Event) -> EventLine:
    inv = event.involved_object
    return EventLine(
        inv.kind or "",
        inv.name or "",
        event.type or "",
        event.reason or "",
        event.message or "",
        event.count or (event.series.count if event.series else None) or 1,
        _when(event),
    )


def events_about(kube: Kube, kind: str, name: str, warnings_only: bool = False) -> list[EventLine]:
    """Events whose involvedObject is kind/name in the target namespace, oldest first."""
    selector = f"involvedObject.kind={kind},involvedObject.name={name}"
    if warnings_only:
        selector += ",type=Warning"
    items = kube.core.list_namespaced_event(kube.namespace, field_selector=selector).items
    lines = [to_line(e) for e in items]
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(lines, key=lambda e: e.last_seen or epoch)


def recent_warnings(kube: Kube, limit: int = 5, names: set[str] | None = None) -> list[EventLine]:
    """The newest Warning events in the namespace, optionally only about the named objects."""
    items = kube.core.list_namespaced_event(kube.namespace, field_selector="type=Warning").items
    lines = [to_line(e) for e in items if names is None or e.involved_object.name in names]
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(lines, key=lambda e: e.last_seen or epoch)[-limit:]


def newest_first(lines: list[EventLine]) -> list[EventLine]:
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(lines, key=lambda e: e.last_seen or epoch, reverse=True)


def namespace_events(kube: Kube, names: set[str] | None = None, limit: int = 20) -> list[EventLine]:
    """The namespace's newest events of every type, optionally only those about the named objects."""
    items = kube.core.list_namespaced_event(kube.namespace).items
    lines = [to_line(e) for e in items if names is None or e.involved_object.name in names]
    return newest_first(lines)[:limit]


@dataclass(frozen=True)
class RecentEvents:
    """What `events [app]` shows: where, about what, and the newest events first."""

    cluster: str
    namespace: str
    app: str | None
    events: tuple[EventLine, ...]


def recent_events(target: ClusterTarget, app: str | None = None, limit: int = DEFAULT_EVENTS) -> RecentEvents:
    """The namespace's newest events, or only those about one app's Deployment, ReplicaSets and pods."""
    with connect(target) as kube, api_errors(f"events of {app or target.namespace}"):
        names = read_app(kube, app).names if app else None
        lines = namespace_events(kube, names, limit)
    return RecentEvents(target.name, target.namespace, app, tuple(lines))

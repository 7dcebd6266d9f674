"""How controllers record events: client-go's two event libraries, with their rate limits.

- `record` is k8s.io/client-go/tools/record (the core/v1 recorder most controllers and the kubelet
  use): an identical event bumps `count` and `lastTimestamp` (events_cache.go EventCorrelator), and
  a source may record at most 25 events about one object, then one per 5 minutes more
  (EventSourceObjectSpamFilter: defaultSpamBurst = 25, defaultSpamQPS = 1/300).
- `emit` is k8s.io/client-go/tools/events (events.k8s.io/v1; the scheduler uses it): `eventTime` in
  microseconds, no first/lastTimestamp or count; an isomorphic event (same action, reason,
  controller and object — not the note) turns the first into a series of count 2 at once, and
  later repeats only raise the series in memory, written every 30 minutes (refreshTime).

Times are the fake's: a 5-minute refill is half a real second at the default speed.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..kinds import BY_KIND, Kind
from ..store import clone, now_rfc3339

if TYPE_CHECKING:
    from ..fake import FakeKube

EVENT = BY_KIND["Event"]
SPAM_BURST, SPAM_REFILL_SECONDS = 25, 300.0
SERIES_REFRESH_SECONDS = 30 * 60.0


def now_micro() -> str:
    """metav1.MicroTime as it is serialized: RFC 3339 with six fractional digits."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def reference(kind: Kind, obj: dict) -> dict:
    meta = obj["metadata"]
    return {
        "kind": kind.kind,
        "apiVersion": kind.api_version,
        "name": meta["name"],
        "namespace": meta.get("namespace", ""),
        "uid": meta.get("uid", ""),
    }


@dataclass
class _Series:
    name: str
    namespace: str
    count: int = 1
    written: float = 0.0  # fake-clock instant of the last write of the series


@dataclass
class EventRecorder:
    """The cluster's event recorders, keeping the state their libraries keep in memory."""

    fake: FakeKube
    tokens: dict[str, tuple[float, float]] = field(default_factory=dict)  # spam key -> (tokens, when)
    series: dict[tuple, _Series] = field(default_factory=dict)

    def _allowed(self, key: str) -> bool:
        """A token bucket per source and object: 25 at first, one more every 300 fake seconds."""
        clock = self.fake.clock
        tokens, since = self.tokens.get(key, (float(SPAM_BURST), clock.mono()))
        tokens = min(float(SPAM_BURST), tokens + clock.elapsed(since) / SPAM_REFILL_SECONDS)
        if tokens < 1:
            self.tokens[key] = (tokens, clock.mono())
            return False
        self.tokens[key] = (tokens - 1, clock.mono())
        return True

    def record(self, kind: Kind, obj: dict, type_: str, reason: str, message: str, component: str) -> None:
        """A core/v1 event: a new one, or a bump of the identical one."""
        regarding = reference(kind, obj)
        if not self._allowed(f"{component}/{regarding['uid']}"):
            return
        store, namespace = self.fake.store, regarding["namespace"] or "default"
        for existing in store.list(EVENT, namespace):
            same = (existing["reason"], existing["message"], existing.get("type")) == (reason, message, type_)
            if (
                same
                and existing["involvedObject"].get("uid") == regarding["uid"]
                and (existing.get("source") or {}).get("component") == component
            ):
                bumped = clone(existing)
                bumped["count"] = existing.get("count", 1) + 1
                bumped["lastTimestamp"] = now_rfc3339()
                store.update(EVENT, bumped, existing)
                return
        now = now_rfc3339()
        event = {
            "metadata": {"name": f"{regarding['name']}.{secrets.token_hex(8)}", "namespace": namespace},
            "involvedObject": regarding,
            "reason": reason,
            "message": message,
            "type": type_,
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "source": {"component": component},
            "reportingComponent": component,
            "reportingInstance": "",
        }
        store.create(EVENT, event)

    def emit(
        self, kind: Kind, obj: dict, type_: str, reason: str, action: str, note: str, controller: str
    ) -> None:
        """An events.k8s.io/v1 event, stored as the core/v1 view of it shows."""
        regarding = reference(kind, obj)
        key = (action, reason, controller, regarding["uid"])
        store, clock = self.fake.store, self.fake.clock
        known = self.series.get(key)
        if known is not None:
            known.count += 1
            stored = store.get(EVENT, known.namespace, known.name)
            due = known.count == 2 or clock.elapsed(known.written) >= SERIES_REFRESH_SECONDS
            if stored is not None and due:
                updated = clone(stored)
                updated["series"] = {"count": known.count, "lastObservedTime": now_micro()}
                store.update(EVENT, updated, stored)
                known.written = clock.mono()
            return
        namespace = regarding["namespace"] or "default"
        event = {
            "metadata": {"name": f"{regarding['name']}.{secrets.token_hex(8)}", "namespace": namespace},
            "involvedObject": regarding,
            "reason": reason,
            "message": note,
            "type": type_,
            "eventTime": now_micro(),
            "firstTimestamp": None,
            "lastTimestamp": None,
            "source": {},
            "action": action,
            "reportingComponent": controller,
            "reportingInstance": f"{controller}-fake",
        }
        created = store.create(EVENT, event)
        self.series[key] = _Series(created["metadata"]["name"], namespace, written=clock.mono())

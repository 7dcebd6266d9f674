"""Object storage: resourceVersion, uid, timestamps, generation, and the event log watches read."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .kinds import Kind

HISTORY = 20000


def now_rfc3339() -> str:
    """Kubernetes timestamps: UTC, second precision, `Z` suffix."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class WatchEvent:
    rv: int
    type: str
    kind: Kind
    obj: dict


@dataclass
class Subscriber:
    kind: Kind
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)


def clone(obj):
    """A deep copy of JSON-shaped data (dicts, lists, scalars), several times faster than deepcopy."""
    if isinstance(obj, dict):
        return {k: clone(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [clone(v) for v in obj]
    return obj


def _unchanged(new: dict, old: dict) -> bool:
    """Same object apart from resourceVersion: a write that would change nothing is skipped."""
    if new.keys() != old.keys() or any(new[k] != old[k] for k in new if k != "metadata"):
        return False
    a, b = new.get("metadata", {}), old.get("metadata", {})
    return {k: v for k, v in a.items() if k != "resourceVersion"} == {
        k: v for k, v in b.items() if k != "resourceVersion"
    }


class ObjectStore:
    """Every object of every kind, keyed by (plural, namespace, name). Only the server loop touches it."""

    def __init__(self) -> None:
        self._objects: dict[tuple[str, str, str], dict] = {}
        self._kinds: dict[str, Kind] = {}
        self._rv = itertools.count(1000)
        self.last_rv = 999
        self.history: deque[WatchEvent] = deque(maxlen=HISTORY)
        self.subscribers: list[Subscriber] = []
        # Called with (kind, object) before every write; the fake's self-tests use it to hold the
        # controllers' own objects to the same strict schema as clients' objects.
        self.check: Callable[[Kind, dict], None] | None = None

    def get(self, kind: Kind, namespace: str, name: str) -> dict | None:
        return self._objects.get((kind.plural, namespace or "", name))

    def list(self, kind: Kind, namespace: str | None = None) -> list[dict]:
        """Objects of a kind, optionally in one namespace, in name order."""
        items = [
            o
            for (plural, ns, _), o in self._objects.items()
            if plural == kind.plural and (namespace is None or ns == namespace)
        ]
        return sorted(items, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def all_objects(self) -> list[tuple[Kind, dict]]:
        return [(self._kinds[plural], o) for (plural, _, _), o in self._objects.items()]

    def by_uid(self, uid: str) -> tuple[Kind, dict] | None:
        for kind, obj in self.all_objects():
            if obj["metadata"].get("uid") == uid:
                return kind, obj
        return None

    def create(self, kind: Kind, obj: dict) -> dict:
        """Store a new object, filling in the metadata the server owns."""
        meta = obj.setdefault("metadata", {})
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        meta["generation"] = 1
        obj["apiVersion"], obj["kind"] = kind.api_version, kind.kind
        return self._write(kind, obj, "ADDED")

    def preview(self, kind: Kind, obj: dict) -> dict:
        """What create would store, without storing it (dryRun=All): server-owned metadata filled in,
        but no resourceVersion, as none was used."""
        out = clone(obj)
        meta = out.setdefault("metadata", {})
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=now_rfc3339(), generation=1)
        out["apiVersion"], out["kind"] = kind.api_version, kind.kind
        return out

    def preview_update(self, kind: Kind, obj: dict, old: dict) -> dict:
        """What update would store, without storing it: the stored resourceVersion stays."""
        if _unchanged(obj, old):
            return clone(old)
        out = clone(obj)
        meta = out["metadata"]
        for key in ("uid", "creationTimestamp", "resourceVersion"):
            meta[key] = old["metadata"][key]
        meta["generation"] = old["metadata"].get("generation", 1) + (obj.get("spec") != old.get("spec"))
        return out

    def update(self, kind: Kind, obj: dict, old: dict) -> dict:
        """Replace an object; bumps generation when spec changed, skips writes that change nothing."""
        if _unchanged(obj, old):
            return old
        meta = obj["metadata"]
        for key in ("uid", "creationTimestamp"):
            meta[key] = old["metadata"][key]
        generation = old["metadata"].get("generation", 1)
        if obj.get("spec") != old.get("spec"):
            generation += 1
        meta["generation"] = generation
        return self._write(kind, obj, "MODIFIED")

    def remove(self, kind: Kind, obj: dict) -> None:
        """The object is gone for good: the last DELETED event watches see."""
        meta = obj["metadata"]
        if self._objects.pop((kind.plural, meta.get("namespace", ""), meta["name"]), None) is None:
            return
        rv = next(self._rv)
        self.last_rv = rv
        gone = clone(obj)
        gone["metadata"]["resourceVersion"] = str(rv)
        self._publish(WatchEvent(rv, "DELETED", kind, gone))

    def _write(self, kind: Kind, obj: dict, event_type: str) -> dict:
        if self.check is not None:
            self.check(kind, obj)
        rv = next(self._rv)
        self.last_rv = rv
        obj["metadata"]["resourceVersion"] = str(rv)
        meta = obj["metadata"]
        self._kinds[kind.plural] = kind
        self._objects[(kind.plural, meta.get("namespace", ""), meta["name"])] = obj
        self._publish(WatchEvent(rv, event_type, kind, clone(obj)))
        return obj

    def _publish(self, event: WatchEvent) -> None:
        self.history.append(event)
        for sub in self.subscribers:
            if sub.kind.plural == event.kind.plural:
                sub.queue.put_nowait(event)

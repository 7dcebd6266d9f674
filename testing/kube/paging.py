"""`limit` and `continue` on lists: pages in key order, and the continue token that carries on.

After staging/src/k8s.io/apiserver/pkg/storage (etcd3 store GetList, continue.go): a page of at most
`limit` items, with `metadata.continue` — base64url of {"v":"meta.k8s.io/v1","rv":<the list's
resourceVersion>,"start":"<the page's last key>\\u0000"}, i.e. what sorts after it — and
`remainingItemCount` while more remain; the next request passes the token and the same options.
A token that does not decode is a 400. Unlike etcd, the fake reads a later page from the current
state, not from a snapshot at the token's resourceVersion, and keeps no compaction window (no 410
for an old token).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from .statuses import bad_request


@dataclass(frozen=True)
class Page:
    items: list[dict]
    metadata: dict


def _key(obj: dict, namespace: str | None) -> str:
    meta = obj["metadata"]
    return meta["name"] if namespace else f"{meta.get('namespace', '')}/{meta['name']}".lstrip("/")


def _decode(token: str) -> tuple[int, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if raw.get("v") != "meta.k8s.io/v1":
            raise ValueError("unknown version")
        return int(raw["rv"]), str(raw["start"]).rstrip("\0")
    except (ValueError, KeyError, TypeError, binascii.Error) as err:
        raise bad_request(f"continue key is not valid: {err}") from None


def _encode(rv: int, start: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start + "\0"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def page(
    items: list[dict], namespace: str | None, limit: str | None, token: str | None, last_rv: int
) -> Page:
    """The page of `items` (already in key order) that `limit` and `continue` ask for."""
    rv = last_rv
    if token:
        rv, start = _decode(token)
        items = [o for o in items if _key(o, namespace) > start]
    size = int(limit) if limit and limit.isdigit() and int(limit) > 0 else 0
    metadata: dict = {"resourceVersion": str(rv)}
    if size and len(items) > size:
        metadata["continue"] = _encode(rv, _key(items[size - 1], namespace))
        metadata["remainingItemCount"] = len(items) - size
        items = items[:size]
    return Page(items, metadata)

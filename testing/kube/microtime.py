"""metav1.MicroTime: how Leases' and Events' microsecond times are read and written.

After staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/micro_time.go: a MicroTime is parsed with the
layout RFC3339Micro, "2006-01-02T15:04:05.000000Z07:00", which Go's time.Parse reads with exactly six
fractional digits — `2026-01-01T00:00:00Z` is refused — and written back in UTC, six digits, `Z`.
A value that does not parse makes the body undecodable: a 400, `<Kind> in version "<v>" cannot be
handled as a <Kind>: parsing time ...`.
"""

from __future__ import annotations

import datetime as dt
import re

from .kinds import Kind
from .statuses import bad_request

LAYOUT = "2006-01-02T15:04:05.000000Z07:00"
_FORM = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(.*)$")
_REST = re.compile(r"^\.(\d{6})(Z|[+-]\d\d:\d\d)$")
# Where the kinds the fake serves keep MicroTimes.
FIELDS = {
    "Lease": (("spec", "acquireTime"), ("spec", "renewTime")),
    "Event": (("eventTime",), ("series", "lastObservedTime")),
}


def parse(kind: Kind, text: str) -> str:
    """The stored form of a MicroTime, or the 400 a real API server answers."""
    head = _FORM.match(text)
    rest = _REST.match(head.group(2)) if head else None
    if head is None or rest is None:
        where = head.group(2) if head else text
        expected = '".000000"' if head else '"2006"'
        raise bad_request(
            f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
            f'parsing time "{text}" as "{LAYOUT}": cannot parse "{where}" as {expected}'
        )
    zone = "+00:00" if rest.group(2) == "Z" else rest.group(2)
    when = dt.datetime.fromisoformat(f"{head.group(1)}.{rest.group(1)}{zone}")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalize(kind: Kind, obj: dict) -> None:
    """Every MicroTime of the object in its stored form (in place)."""
    for path in FIELDS.get(kind.kind, ()):
        node = obj
        for step in path[:-1]:
            node = node.get(step) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(path[-1]), str):
            node[path[-1]] = parse(kind, node[path[-1]])

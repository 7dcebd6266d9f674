"""events.k8s.io/v1: the same stored Events as core/v1, seen through the newer API's field names.

After pkg/apis/events/v1 (conversion: regarding <-> involvedObject, note <-> message,
reportingController <-> reportingComponent, deprecatedSource/FirstTimestamp/LastTimestamp/Count <->
source/firstTimestamp/lastTimestamp/count) and pkg/apis/core/validation/events.go ValidateEventCreate
(a create through events.k8s.io/v1 needs eventTime, reportingController, reportingInstance, action
and reason, and must leave the deprecated fields unset).
"""

from __future__ import annotations

from .kinds import Kind
from .statuses import invalid
from .validation import Cause, required

GROUP_VERSION = "events.k8s.io/v1"
# events.k8s.io/v1 name -> core/v1 name, for the fields whose names differ
RENAMED = {
    "regarding": "involvedObject",
    "note": "message",
    "reportingController": "reportingComponent",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
}
_BACK = {core: new for new, core in RENAMED.items()}


def to_core(event: dict) -> dict:
    """An events.k8s.io/v1 Event as core/v1 stores it."""
    core = {RENAMED.get(k, k): v for k, v in event.items()}
    core["apiVersion"], core["kind"] = "v1", "Event"
    core.setdefault("firstTimestamp", None)
    core.setdefault("lastTimestamp", None)
    core.setdefault("source", {})
    return core


def from_core(core: dict) -> dict:
    """A stored Event as events.k8s.io/v1 shows it."""
    event = {_BACK.get(k, k): v for k, v in core.items() if v not in (None, {}) or k == "eventTime"}
    event["apiVersion"], event["kind"] = GROUP_VERSION, "Event"
    event.setdefault("eventTime", None)
    return event


def from_core_list(listing: dict) -> dict:
    return {**listing, "apiVersion": GROUP_VERSION, "items": [from_core(i) for i in listing["items"]]}


def validate_create(kind: Kind, event: dict) -> None:
    """ValidateEventCreate for events.k8s.io/v1: the new fields are required, the deprecated unset."""
    causes: list[Cause] = []
    if not event.get("eventTime"):
        causes.append(required("eventTime"))
    for name in ("reportingController", "reportingInstance", "action", "reason"):
        if not event.get(name):
            causes.append(required(name))
    if event.get("type") not in ("Normal", "Warning"):
        causes.append(
            ("FieldValueInvalid", "type", f'Invalid value: "": has invalid value: {event.get("type", "")}')
        )
    for name, core in (
        ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"),
    ):
        if event.get(name):
            causes.append(("FieldValueInvalid", core, 'Invalid value: "": needs to be unset'))
    if event.get("deprecatedCount"):
        causes.append(("FieldValueInvalid", "count", 'Invalid value: "": needs to be unset'))
    if causes:
        raise invalid(kind, (event.get("metadata") or {}).get("name", ""), causes)

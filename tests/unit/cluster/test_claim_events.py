"""A claim's events read by time and reason: the PV controller repeats its own at every resync and the
provisioner retries, so the last event listed is not where the claim stands."""

from __future__ import annotations

import datetime as dt

import pytest

from cluster.events import EventLine
from cluster.volumes import where_it_stands

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def event(reason: str, seconds: float, message: str = "") -> EventLine:
    return EventLine(
        "PersistentVolumeClaim",
        "data",
        "Normal",
        reason,
        message or reason,
        1,
        T0 + dt.timedelta(seconds=seconds),
    )


@pytest.mark.parametrize(
    ("events", "state", "reason"),
    [
        # A failing provisioner: the PV controller's next ExternalProvisioning comes after the failure.
        (
            [
                event("ExternalProvisioning", 0),
                event("Provisioning", 0),
                event("ProvisioningFailed", 0),
                event("ExternalProvisioning", 15),
            ],
            "failed",
            "ProvisioningFailed",
        ),
        # All in the same second, listed in any order: the failure still decides.
        (
            [event("ProvisioningFailed", 0), event("Provisioning", 0), event("ExternalProvisioning", 0)],
            "failed",
            "ProvisioningFailed",
        ),
        # A failure a later provisioning overcame.
        (
            [event("ProvisioningFailed", 0), event("ProvisioningSucceeded", 3)],
            "pending",
            "ProvisioningSucceeded",
        ),
        # Waiting for a consumer, repeated at each resync, then the node was chosen.
        (
            [event("WaitForFirstConsumer", 0), event("WaitForFirstConsumer", 15)],
            "waiting",
            "WaitForFirstConsumer",
        ),
        (
            [event("WaitForFirstConsumer", 15), event("ExternalProvisioning", 15), event("Provisioning", 16)],
            "pending",
            "Provisioning",
        ),
        # A provisioner that is slow (or not running): provisioning, not a failure.
        (
            [event("ExternalProvisioning", 0), event("ExternalProvisioning", 15)],
            "pending",
            "ExternalProvisioning",
        ),
        ([event("FailedBinding", 0)], "failed", "FailedBinding"),
    ],
    ids=[
        "failure-then-resync",
        "same-second",
        "recovered",
        "waiting",
        "consumer-came",
        "provisioning",
        "no-class",
    ],
)
def test_where_a_claim_stands(events, state, reason):
    for order in (events, list(reversed(events))):
        got_state, telling = where_it_stands(order)
        assert (got_state, telling.reason) == (state, reason)


def test_a_new_style_event_reads_its_series():
    """events.k8s.io events (the scheduler's) have no count or lastTimestamp: their series says."""
    from kubernetes.client import CoreV1Event, CoreV1EventSeries, V1ObjectMeta, V1ObjectReference

    from cluster.events import to_line

    first, last = T0, T0 + dt.timedelta(minutes=30)
    event = CoreV1Event(
        metadata=V1ObjectMeta(name="web-1.abc", namespace="default"),
        involved_object=V1ObjectReference(kind="Pod", name="web-1"),
        reason="FailedScheduling",
        message="0/1 nodes are available: 1 Insufficient cpu.",
        type="Warning",
        event_time=first,
        series=CoreV1EventSeries(count=7, last_observed_time=last),
    )
    line = to_line(event)
    assert (line.count, line.last_seen) == (7, last)
    assert line.line == "FailedScheduling pod/web-1: 0/1 nodes are available: 1 Insufficient cpu. (x7)"

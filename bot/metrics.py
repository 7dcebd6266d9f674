"""Prometheus metrics for one app instance (its own registry, so tests never share counters)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
_TURN_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class BotMetrics:
    """Turns by channel, command and outcome; turn latency; outbound call latency."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.turns = Counter(
            "k8or_turns", "Turns processed", ["channel", "command", "outcome"], registry=self.registry
        )
        self.turn_seconds = Histogram(
            "k8or_turn_seconds", "Turn latency", ["channel"], buckets=_TURN_BUCKETS, registry=self.registry
        )
        self.outbound_seconds = Histogram(
            "k8or_outbound_seconds",
            "Latency of calls k8or makes to channels and services",
            ["target", "outcome"],
            buckets=_TURN_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge("k8or_turns_in_flight", "Turns being processed now", registry=self.registry)

    def expose(self) -> bytes:
        return generate_latest(self.registry)

"""Prometheus series of the event consumer."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CONSUMED = Counter(
    "saga_events_consumed_total",
    "Stream entries the event consumer handled: stored, duplicate (stored before) or parked",
    ["outcome"],
)
LAG = Gauge(
    "saga_events_consumer_lag",
    "Entries of the stream not yet delivered to the consumer group",
    ["stream"],
)
PENDING = Gauge(
    "saga_events_consumer_pending",
    "Entries delivered to the consumer group and not yet acknowledged",
    ["stream"],
)

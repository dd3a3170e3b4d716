"""Prometheus metrics of the gateway (one set per process, shared by its instances)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONNECTIONS = Gauge("saga_gateway_open_connections", "Open authenticated WebSocket connections")
CONNECTIONS_TOTAL = Counter(
    "saga_gateway_connections_total", "WebSocket connections authenticated since start"
)
DISCONNECTS = Counter(
    "saga_gateway_disconnects_total", "WebSocket connections closed, by close code", ["code"]
)
MESSAGES_IN = Counter(
    "saga_gateway_messages_in_total", "Frames received from clients, by frame type", ["type"]
)
MESSAGES_OUT = Counter("saga_gateway_messages_out_total", "Frames queued to clients")
PUBSUB_MESSAGES = Counter(
    "saga_gateway_pubsub_messages_total", "Messages received from Redis pub/sub"
)
ERRORS = Counter("saga_gateway_errors_total", "Error frames and error responses, by code", ["code"])
RATE_LIMITED = Counter(
    "saga_gateway_rate_limited_total", "Requests and frames refused by a rate limit", ["scope"]
)
SLOW_CONSUMERS = Counter(
    "saga_gateway_slow_consumers_total", "Connections dropped because their send queue was full"
)
PROXY_REQUESTS = Counter(
    "saga_gateway_proxy_requests_total", "Proxied HTTP requests", ["service", "status"]
)
PROXY_LATENCY = Histogram(
    "saga_gateway_proxy_latency_seconds", "Latency of proxied HTTP requests", ["service"]
)

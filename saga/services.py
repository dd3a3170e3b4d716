"""The workers and fronts that `saga up` runs, each as its own `saga ...` child process."""

from __future__ import annotations

from dataclasses import dataclass

from infra.settings import PlatformSettings


@dataclass(frozen=True)
class ServiceSpec:
    """One long-running process of the platform."""

    name: str
    command: tuple[str, ...]
    port: int
    url: str
    health_url: str
    description: str


def platform_services(settings: PlatformSettings) -> list[ServiceSpec]:
    """Every service of the platform, in the order they are listed to the user."""
    host = settings.bind_host
    specs: list[ServiceSpec] = []
    for name, command, port, health, description in _SERVICES:
        port_value = int(getattr(settings, port))
        base = f"http://{host}:{port_value}"
        specs.append(ServiceSpec(name, command, port_value, base, base + health, description))
    return specs


# (name, saga sub-command, settings field of its port, health path, what it is)
_SERVICES: list[tuple[str, tuple[str, ...], str, str, str]] = [
    (
        "edge",
        ("api", "edge"),
        "edge_port",
        "/health",
        "Edge API: POST /orders (Idempotency-Key), GET /orders/{id} (OpenAPI at /docs)",
    ),
    ("orders", ("api", "orders"), "orders_port", "/health", "Orders service (order records)"),
    (
        "inventory",
        ("api", "inventory"),
        "inventory_port",
        "/health",
        "Inventory: catalog, stock, reservations",
    ),
    (
        "payments",
        ("api", "payments"),
        "payments_port",
        "/health",
        "Mock PSP: authorize, capture, void (MOCK_LATENCY_MS, MOCK_FAILURE_RATE)",
    ),
    (
        "relay",
        ("relay",),
        "relay_port",
        "/health",
        "Outbox relay: starts order sagas (LISTEN order_events + 5 s poll)",
    ),
    (
        "worker",
        ("worker", "all"),
        "worker_metrics_port",
        "/health",
        "Temporal workers of every task queue (metrics at /metrics)",
    ),
    (
        "gateway",
        ("gateway",),
        "gateway_port",
        "/health",
        "Player web app: open / in a browser; WebSocket /ws, HTTP proxy /api/{service}/...",
    ),
    (
        "game",
        ("api", "game"),
        "game_port",
        "/health",
        "Game service: poker tables as workflows (OpenAPI at /docs; `saga poker --help`)",
    ),
    (
        "events",
        ("api", "events"),
        "event_port",
        "/health",
        "Event service: GET /events, /events/aggregates; stores the session and hand streams",
    ),
    (
        "balance",
        ("api", "balance"),
        "balance_http_port",
        "/api/health",
        "Balance HTTP /api (OpenAPI at /docs) and gRPC balance.v1.BalanceService on 50051",
    ),
]

"""The workers and fronts that `saga up` runs, each as its own `saga ...` child process."""

from __future__ import annotations

from dataclasses import dataclass

from saga.settings import PlatformSettings


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
        "worker",
        ("worker", "all"),
        "worker_metrics_port",
        "/health",
        "Temporal workers of every task queue (metrics at /metrics)",
    ),
]

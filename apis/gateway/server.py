"""`saga gateway`: the gateway app under uvicorn, sized for many long-lived sockets."""

from __future__ import annotations

import uvicorn

from apis.gateway.app import create_app
from apis.gateway.settings import GatewaySettings
from infra.telemetry import configure_telemetry


def server_config(settings: GatewaySettings, port: int | None = None) -> uvicorn.Config:
    """The uvicorn config of one gateway instance (also used by tests and the benchmark)."""
    return uvicorn.Config(
        create_app(settings),
        host=settings.bind_host,
        port=settings.gateway_port if port is None else port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        # The protocol-level keepalive drops dead TCP peers; the app's heartbeat sweep
        # handles clients that are connected but silent.
        ws_ping_interval=settings.ws_ping_interval_seconds,
        ws_ping_timeout=settings.ws_ping_interval_seconds,
        # Frames up to 4x the app limit get an error frame; beyond that the protocol closes 1009.
        ws_max_size=settings.ws_max_frame_bytes * 4,
        ws_per_message_deflate=False,
        # The sans-I/O protocol writes a frame straight to the transport: fan-out to thousands
        # of sockets costs a fraction of the legacy protocol's per-frame task machinery.
        ws="websockets-sansio",
        backlog=4096,
        timeout_graceful_shutdown=5,
    )


def run_gateway(settings: GatewaySettings) -> None:
    """Serve until SIGINT/SIGTERM."""
    settings.refuse_default_secrets()
    # Before the app is built: its factory instruments it when tracing is on.
    configure_telemetry("gateway", settings)
    uvicorn.Server(server_config(settings)).run()

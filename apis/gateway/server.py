"""`saga gateway`: the gateway app under uvicorn, sized for many long-lived sockets."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from apis.gateway.app import create_app
from apis.gateway.context import Gateway
from apis.gateway.settings import GatewaySettings
from domain.gateway.frames import CloseCode
from infra.serving import GracefulServer, HostedServer, SocketCloser, run_server, uvicorn_config
from infra.telemetry import configure_telemetry

# Thousands of sockets each append SESSION_ENDED and announce presence as they close: their
# bookkeeping needs more than the few seconds an HTTP request does.
SHUTDOWN_GRACE_SECONDS = 30.0


def server_config(
    settings: GatewaySettings, port: int | None = None, app: FastAPI | None = None
) -> uvicorn.Config:
    """The uvicorn config of one gateway instance (also used by tests and the benchmark)."""
    return uvicorn_config(
        create_app(settings) if app is None else app,
        settings.bind_host,
        settings.gateway_port if port is None else port,
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
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )


def socket_closer(app: FastAPI) -> SocketCloser:
    """What the server runs at shutdown: every WebSocket of `app` closed with 1001 and why."""

    async def close_sockets() -> int:
        gateway: Gateway | None = getattr(app.state, "gateway", None)
        if gateway is None:
            return 0
        return await gateway.hub.close_all(CloseCode.GOING_AWAY, "gateway shutting down")

    return close_sockets


def gateway_server(
    settings: GatewaySettings, port: int | None = None, *, hosted: bool = False
) -> GracefulServer:
    """A gateway server; `hosted` leaves the signals to the caller (tests, other processes)."""
    app = create_app(settings)
    server = HostedServer if hosted else GracefulServer
    return server(server_config(settings, port, app), close_sockets=socket_closer(app))


def run_gateway(settings: GatewaySettings) -> None:
    """Serve until SIGINT/SIGTERM."""
    settings.refuse_default_secrets()
    # Before the app is built: its factory instruments it.
    configure_telemetry("gateway", settings)
    run_server(gateway_server(settings))

"""`saga relay`: the outbox relay process, with /health and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from domain.checkout.relay import OutboxRelay
from infra.db.pool import create_pool
from infra.http_telemetry import ObservedRequests
from infra.serving import hosted_server
from infra.settings import PlatformSettings
from infra.telemetry import configure_telemetry, instrument_app
from infra.temporal_client import connect_temporal
from workflows.checkout.starter import OrderSagaStarter


def health_app(relay: OutboxRelay) -> FastAPI:
    """/health (the database answers; pending rows and the last start error) and /metrics."""
    app = FastAPI(title="saga relay", docs_url=None, redoc_url=None)
    app.add_middleware(ObservedRequests, service="relay")
    # Its probes and scrapes stay untraced (FastAPI would trace them natively otherwise).
    instrument_app(app)

    @app.get("/health")
    async def health(response: Response) -> dict[str, object]:
        try:
            pending = await relay.pending()
        except Exception as exc:
            response.status_code = 503
            return {"status": "degraded", "database": repr(exc)}
        return {"status": "ok", "pending": pending, "last_error": relay.last_error}

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


async def run_relay(settings: PlatformSettings) -> None:
    """Relay until SIGINT/SIGTERM. Temporal may be down: rows wait and start when it returns."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    configure_telemetry("relay", settings)
    # Lazy: the relay must come up (and keep accepting rows) while Temporal is down.
    client = (await connect_temporal(settings, lazy=True)).client
    pool = await create_pool(settings.resolved_database_url, max_size=4)
    relay = OutboxRelay(pool, OrderSagaStarter(client))
    server = hosted_server(health_app(relay), settings.bind_host, settings.relay_port)
    serving = asyncio.create_task(server.serve())
    try:
        await relay.run(settings.resolved_database_url, stop)
    finally:
        server.should_exit = True
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(serving, timeout=5)
        await pool.close()

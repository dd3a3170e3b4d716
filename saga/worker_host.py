"""`saga worker`: runs the chosen task queues' workers plus a /health and /metrics endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import cast

import httpx
import redis.asyncio as aioredis
from fastapi import FastAPI, Response
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.worker import Worker

from apis.fronts import http_front, metrics_response
from infra.db.pool import create_pool
from infra.event_loop import freeze_startup_heap
from infra.redis import platform_redis
from infra.serving import hosted_server, serve_until_signalled
from infra.settings import PlatformSettings
from infra.telemetry import configure_telemetry
from infra.temporal_client import connect_temporal
from saga.workers import WorkerResources, worker_factories

log = logging.getLogger(__name__)


class UnknownTaskQueueError(Exception):
    """A task queue was asked for that no context provides."""


def _health_app(
    workers: list[Worker], client: Client, http: httpx.AsyncClient, sdk_metrics_url: str | None
) -> FastAPI:
    app = http_front("worker", metrics=False, docs_url=None, redoc_url=None)

    @app.get("/health")
    async def health(response: Response) -> dict[str, object]:
        running = [w.task_queue for w in workers if w.is_running]
        try:
            await client.workflow_service.get_system_info(
                GetSystemInfoRequest(), timeout=timedelta(seconds=2)
            )
            temporal_ok = True
        except Exception:
            temporal_ok = False
        ok = temporal_ok and len(running) == len(workers)
        response.status_code = 200 if ok else 503
        return {
            "status": "ok" if ok else "degraded",
            "temporal": temporal_ok,
            "task_queues": running,
        }

    @app.get("/metrics")
    async def metrics() -> Response:
        sdk = b""
        if sdk_metrics_url is not None:
            # The Temporal SDK serves its own registry; one scrape should see both.
            with contextlib.suppress(httpx.HTTPError):
                sdk = (await http.get(sdk_metrics_url, timeout=2)).content
        return metrics_response(sdk)

    return app


async def run_workers(settings: PlatformSettings, queues: list[str]) -> None:
    """Build the workers of `queues` (or all), run them until SIGINT/SIGTERM, then drain."""
    factories = worker_factories()
    chosen = list(factories) if queues in ([], ["all"]) else queues
    unknown = [q for q in chosen if q not in factories]
    if unknown:
        raise UnknownTaskQueueError(
            f"unknown task queue {', '.join(unknown)}; known: {', '.join(factories) or 'none'}"
        )
    configure_telemetry("worker", settings)
    connection = await connect_temporal(settings, export_sdk_metrics=True)
    client = connection.client
    pool = await create_pool(settings.resolved_database_url, max_size=20)
    redis = cast(aioredis.Redis, platform_redis(settings))
    async with httpx.AsyncClient(timeout=10) as http:
        resources = WorkerResources(settings, client, pool, redis, http)
        workers = [factories[q](resources) for q in chosen]
        server = hosted_server(
            _health_app(workers, client, http, connection.sdk_metrics_url),
            settings.bind_host,
            settings.worker_metrics_port,
        )

        async def drain() -> None:
            await asyncio.gather(
                *(w.shutdown() for w in workers if w.is_running), return_exceptions=True
            )

        # Workers, clients and every imported module are built: keep them out of the
        # collector's full passes, which would stall every table's workflow task in flight.
        freeze_startup_heap()
        try:
            await serve_until_signalled(
                servers=[server], tasks=[w.run() for w in workers], drain=drain
            )
        finally:
            await redis.aclose()
            await pool.close()

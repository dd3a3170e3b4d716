"""What every order-saga front shares: lifespan resources, problem details, health, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import httpx
import redis.asyncio as aioredis
from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from apis.problems import install_problem_handlers
from infra.db.pool import create_pool
from infra.http_telemetry import ObservedRequests
from infra.settings import PlatformSettings
from infra.telemetry import instrument_app


@dataclass
class FrontResources:
    """Clients created once in the lifespan and handed to routes through dependencies."""

    settings: PlatformSettings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    http: httpx.AsyncClient


def resources(request: Request) -> FrontResources:
    """FastAPI dependency: the app's resources."""
    found: FrontResources = request.app.state.resources
    return found


def pool(request: Request) -> asyncpg.Pool:
    """FastAPI dependency: the app's connection pool."""
    return resources(request).pool


def create_front(
    service: str,
    settings: PlatformSettings,
    *,
    pool_size: int = 10,
    on_start: Callable[[FastAPI, FrontResources], Awaitable[None]] | None = None,
) -> FastAPI:
    """A FastAPI app with pooled resources, problem details, /health and /metrics."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = await create_pool(settings.resolved_database_url, max_size=pool_size)
        redis = aioredis.Redis.from_url(settings.resolved_redis_url)
        async with httpx.AsyncClient(timeout=10) as http:
            app.state.resources = FrontResources(settings, db, redis, http)
            if on_start is not None:
                await on_start(app, app.state.resources)
            try:
                yield
            finally:
                await redis.aclose()
                await db.close()

    app = FastAPI(title=f"saga {service}", lifespan=lifespan)
    install_problem_handlers(app)
    app.add_middleware(ObservedRequests, service=service)
    instrument_app(app)

    @app.get("/health", include_in_schema=False)
    async def health(request: Request, response: Response) -> dict[str, str]:
        try:
            await resources(request).pool.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError):
            response.status_code = 503
            return {"status": "degraded", "database": "down"}
        return {"status": "ok", "service": service}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app

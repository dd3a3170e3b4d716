"""What every FastAPI front shares: problem details, request telemetry, /metrics and auth.

`http_front` is the one factory every front starts from (edge, orders, inventory, payments,
balance, gateway, game, the relay's and the workers' health apps); `create_front` adds the
pooled resources and /health of the order-saga fronts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
import httpx
import redis.asyncio as aioredis
from fastapi import Depends, FastAPI, Request, Response
from fastapi.requests import HTTPConnection
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from pydantic import SecretStr

from apis.auth import install_auth
from apis.problems import install_problem_handlers
from domain.errors import ValidationFailed
from infra.db.pool import create_pool
from infra.http_telemetry import ObservedRequests
from infra.redis import platform_redis
from infra.settings import PlatformSettings
from infra.telemetry import instrument_app


@dataclass
class FrontResources:
    """Clients created once in the lifespan and handed to routes through dependencies."""

    settings: PlatformSettings
    pool: asyncpg.Pool
    # Redis or a RedisCluster (infra.redis.platform_redis), typed as the single client its
    # consumers still name; the cluster client speaks the same commands.
    redis: aioredis.Redis
    http: httpx.AsyncClient


def front_resources(request: Request) -> FrontResources:
    """The app's resources."""
    found: FrontResources = request.app.state.resources
    return found


# FastAPI runs a plain `def` dependency in its thread pool: two thread hand-offs per request
# for what is an attribute read. Every dependency of the fronts is `async def` for that.
async def resources(request: Request) -> FrontResources:
    """FastAPI dependency: the app's resources."""
    return front_resources(request)


async def pool(request: Request) -> asyncpg.Pool:
    """FastAPI dependency: the app's connection pool."""
    return front_resources(request).pool


def metrics_response(extra: bytes = b"") -> Response:
    """This process's Prometheus registry (plus `extra`, e.g. the Temporal SDK's own)."""
    return Response(generate_latest() + extra, media_type=CONTENT_TYPE_LATEST)


async def single_valued_query(connection: HTTPConnection) -> None:
    """A query parameter given twice is ambiguous (which `user_id`?): refused, never guessed.

    No route of the platform takes a list in its query string, so the rule holds for all.
    """
    if connection.scope["type"] != "http":
        return
    names = [name for name, _ in connection.query_params.multi_items()]
    if len(names) != len(set(names)):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise ValidationFailed(
            f"each query parameter may be given once; repeated: {', '.join(repeated)}"
        )


def http_front(
    service: str,
    *,
    jwt_secret: SecretStr | None = None,
    metrics: bool = True,
    timed: Histogram | None = None,
    **fastapi: Any,
) -> FastAPI:
    """A FastAPI app with problem details, request telemetry, /metrics and, given a secret, auth."""
    fastapi.setdefault("title", f"saga {service}")
    fastapi["dependencies"] = [*fastapi.get("dependencies", []), Depends(single_valued_query)]
    app = FastAPI(**fastapi)
    install_problem_handlers(app)
    app.add_middleware(ObservedRequests, service=service, timed=timed)
    # Probes and scrapes stay untraced (FastAPI would trace them natively otherwise).
    instrument_app(app)
    if jwt_secret is not None:
        install_auth(app, jwt_secret)
    if metrics:

        @app.get("/metrics", include_in_schema=False)
        async def metrics_route() -> Response:
            return metrics_response()

    return app


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
        redis = cast(aioredis.Redis, platform_redis(settings))
        async with httpx.AsyncClient(timeout=10) as http:
            app.state.resources = FrontResources(settings, db, redis, http)
            if on_start is not None:
                await on_start(app, app.state.resources)
            try:
                yield
            finally:
                await redis.aclose()
                await db.close()

    app = http_front(service, jwt_secret=settings.jwt_secret, lifespan=lifespan)

    @app.get("/health", include_in_schema=False)
    async def health(request: Request, response: Response) -> dict[str, str]:
        try:
            await front_resources(request).pool.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError):
            response.status_code = 503
            return {"status": "degraded", "database": "down"}
        return {"status": "ok", "service": service}

    return app

"""The FastAPI app of the balance service over one BalanceBook."""

from __future__ import annotations

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from apis.balance.rest.middleware import AuthMiddleware, IdempotencyMiddleware, MetricsMiddleware
from apis.balance.rest.routes import router
from apis.problems import install_problem_handlers, problem
from domain.balance.book import BalanceBook
from domain.balance.scripts import REDIS_DOWN
from domain.errors import ErrorCode
from infra.http_telemetry import ObservedRequests
from infra.telemetry import instrument_app


def create_app(book: BalanceBook, jwt_secret: str) -> FastAPI:
    """The app; the caller owns `book`'s Redis client and closes it."""
    app = FastAPI(
        title="saga balance service",
        version="1.0",
        description="Chip balances: accounts, two-phase reservations, a checksum-chained ledger.",
    )
    app.state.book = book
    install_problem_handlers(app)
    # Added last runs first: metrics see every answer, auth runs before idempotency.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(AuthMiddleware, jwt_secret=jwt_secret)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(ObservedRequests, service="balance")
    instrument_app(app)
    app.include_router(router)

    @app.get("/api/health", summary="200 when Redis answers")
    async def health() -> Response:
        try:
            await book.redis.ping()
        except REDIS_DOWN:
            return problem(
                503, ErrorCode.UNAVAILABLE, "Redis is unreachable", headers={"Retry-After": "1"}
            )
        return Response('{"status":"ok","redis":true}', media_type="application/json")

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app

"""The FastAPI app of the balance service over one BalanceBook."""

from __future__ import annotations

from fastapi import FastAPI, Response

from apis.balance.rest.middleware import HTTP_LATENCY, AuthMiddleware, IdempotencyMiddleware
from apis.balance.rest.routes import router
from apis.fronts import http_front
from apis.problems import problem
from domain.balance.book import BalanceBook
from domain.balance.scripts import REDIS_DOWN
from domain.errors import ErrorCode


def create_app(book: BalanceBook, jwt_secret: str) -> FastAPI:
    """The app; the caller owns `book`'s Redis client and closes it."""
    app = http_front(
        "balance",
        timed=HTTP_LATENCY,
        title="saga balance service",
        version="1.0",
        description="Chip balances: accounts, two-phase reservations, a checksum-chained ledger.",
    )
    app.state.book = book
    # Added last runs first: auth runs before idempotency.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(AuthMiddleware, jwt_secret=jwt_secret)
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

    return app

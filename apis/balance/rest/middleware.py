"""JWT authentication, idempotency keys and request metrics for the HTTP front."""

from __future__ import annotations

import time

from prometheus_client import Histogram
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from apis.problems import domain_problem, problem
from domain.balance.validation import require_idempotency_key
from domain.errors import DomainError, ErrorCode
from infra.tokens import Claims, InvalidToken, verify_token

HTTP_LATENCY = Histogram(
    "saga_balance_http_request_seconds",
    "Time to answer a balance HTTP request",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)

_PUBLIC = ("/api/health", "/metrics", "/docs", "/redoc", "/openapi.json")


class AuthMiddleware(BaseHTTPMiddleware):
    """Every /api route but health needs `Authorization: Bearer <JWT>`."""

    def __init__(self, app: ASGIApp, jwt_secret: str) -> None:
        super().__init__(app)
        self._secret = jwt_secret

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        if not path.startswith("/api/") or path in _PUBLIC:
            return await call_next(request)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return problem(
                401,
                ErrorCode.UNAUTHENTICATED,
                "Authorization: Bearer <token> is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            request.state.claims = verify_token(self._secret, token)
        except InvalidToken as exc:
            return problem(
                401, ErrorCode.UNAUTHENTICATED, exc.reason, headers={"WWW-Authenticate": "Bearer"}
            )
        return await call_next(request)


class IdempotencyMiddleware(BaseHTTPMiddleware):
    """POSTs need an `Idempotency-Key`; a replayed answer says so in `Idempotency-Replayed`."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.method != "POST" or not request.url.path.startswith("/api/"):
            return await call_next(request)
        try:
            request.state.idempotency_key = require_idempotency_key(
                request.headers.get("idempotency-key")
            )
        except DomainError as err:
            return domain_problem(err)
        request.state.replayed = False
        response = await call_next(request)
        if request.state.replayed:
            response.headers["Idempotency-Replayed"] = "true"
        return response


class MetricsMiddleware(BaseHTTPMiddleware):
    """Latency by route template, so ids do not explode the label set."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        HTTP_LATENCY.labels(request.method, template, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response


def claims_of(request: Request) -> Claims:
    """The verified caller, set by AuthMiddleware."""
    claims: Claims = request.state.claims
    return claims

"""JWT authentication (apis/auth.py), idempotency keys and the latency histogram of HTTP."""

from __future__ import annotations

from prometheus_client import Histogram
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from apis.auth import authenticate, bearer_token
from apis.problems import domain_problem
from domain.balance.validation import require_idempotency_key
from domain.errors import DomainError
from infra.tokens import Claims

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
        try:
            request.state.claims = authenticate(
                self._secret, bearer_token(request.headers.get("authorization"))
            )
        except DomainError as err:
            return domain_problem(err)
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


def claims_of(request: Request) -> Claims:
    """The verified caller, set by AuthMiddleware."""
    claims: Claims = request.state.claims
    return claims

"""HTTP rate limits: per client address before authentication, per user after it."""

from __future__ import annotations

import logging
import math

from fastapi import Request
from fastapi.responses import JSONResponse

from apis.auth import request_claims
from apis.gateway.context import Gateway
from apis.problems import problem
from domain.errors import ErrorCode
from domain.gateway import metrics
from domain.gateway.ratelimit import RateLimit
from infra.tokens import Claims

log = logging.getLogger(__name__)


def client_ip(request: Request) -> str:
    """The peer address (no X-Forwarded-For: nothing in front of the gateway is trusted)."""
    return request.client.host if request.client else "unknown"


async def _check(gateway: Gateway, key: str, rule: RateLimit, scope: str) -> JSONResponse | None:
    try:
        decision = await gateway.limiter.hit(key, rule)
    except Exception as exc:
        # A Redis outage must not take the whole edge down with it: fail open, loudly.
        log.warning("rate limit check failed open: %s", exc)
        return None
    if decision.allowed:
        return None
    metrics.RATE_LIMITED.labels(scope).inc()
    retry = max(1, math.ceil(decision.retry_after_seconds))
    return problem(
        429,
        ErrorCode.RATE_LIMITED,
        f"too many requests per {scope}; retry in {retry}s",
        headers={"Retry-After": str(retry)},
        limit=rule.limit,
        window_seconds=rule.window_seconds,
    )


async def limit_ip(gateway: Gateway, request: Request) -> JSONResponse | None:
    """429 problem when this address went over its window, else None."""
    return await _check(gateway, f"http:ip:{client_ip(request)}", gateway.ip_limit, "ip")


async def limit_user(gateway: Gateway, user_id: str) -> JSONResponse | None:
    """429 problem when this user went over its window, else None."""
    return await _check(gateway, f"http:user:{user_id}", gateway.user_limit, "user")


async def limited_caller(gateway: Gateway, request: Request) -> Claims | JSONResponse:
    """The caller of an HTTP route, or the 429 it earned: address first, then the user."""
    limited = await limit_ip(gateway, request)
    if limited is not None:
        return limited
    claims = request_claims(request)
    return await limit_user(gateway, claims.subject) or claims

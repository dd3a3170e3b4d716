"""HTTP proxy: /api/{service}/... to the edge, balance, game, player and event upstreams."""

from __future__ import annotations

import time

import httpx
from fastapi import APIRouter, Request, Response

from apis.gateway.context import Gateway
from apis.gateway.exposure import SPOOFABLE_HEADERS, refusal
from apis.gateway.limits import client_ip, limited_caller
from apis.gateway.observability import TraceContext, current_trace
from apis.problems import problem
from domain.errors import ErrorCode
from domain.gateway import metrics
from infra.logs import correlation_id
from infra.tokens import Claims

KNOWN_UPSTREAMS = ("edge", "balance", "game", "player", "event")
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-encoding",
}
# Set by the gateway from verified facts; a client's own value is dropped.
_GATEWAY_HEADERS = {"x-user-id", "x-token-kind", "x-forwarded-for", "x-forwarded-proto"}
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

router = APIRouter()


@router.api_route("/api/{service}/{path:path}", methods=_METHODS, include_in_schema=False)
async def proxy(service: str, path: str, request: Request) -> Response:
    """Forward the request with its auth and trace headers; 502/504 when the upstream fails."""
    gateway: Gateway = request.app.state.gateway
    claims = await limited_caller(gateway, request)
    if not isinstance(claims, Claims):
        return claims
    if service not in KNOWN_UPSTREAMS:
        return problem(404, ErrorCode.NOT_FOUND, f"no upstream named {service[:40]!r}")
    base = gateway.settings.upstreams().get(service)
    if base is None:
        return problem(
            503,
            ErrorCode.UNAVAILABLE,
            f"upstream {service!r} is not configured (set {service.upper()}_URL)",
            headers={"Retry-After": "30"},
        )
    refused = refusal(service, path)
    if refused is not None:
        return problem(403, ErrorCode.FORBIDDEN, refused)
    body = await request.body()
    if len(body) > gateway.settings.max_request_bytes:
        return problem(413, ErrorCode.PAYLOAD_TOO_LARGE, "request body is too large")

    trace = current_trace.get() or TraceContext.from_header(request.headers.get("traceparent"))
    headers = {
        k: v
        for k, v in request.headers.items()
        if k.lower() not in _HOP_BY_HOP
        and k.lower() not in _GATEWAY_HEADERS
        and k.lower() not in SPOOFABLE_HEADERS
    }
    headers.update(
        {
            "traceparent": trace.traceparent,
            "x-request-id": correlation_id.get() or trace.trace_id,
            "x-user-id": claims.subject,
            "x-token-kind": claims.kind.value,
            "x-forwarded-for": client_ip(request),
            "x-forwarded-proto": request.url.scheme,
        }
    )
    url = f"{base}/{path}"
    started = time.perf_counter()
    try:
        upstream = await gateway.http.request(
            request.method, url, params=request.query_params, content=body, headers=headers
        )
    except httpx.TimeoutException:
        metrics.PROXY_REQUESTS.labels(service, "504").inc()
        return problem(504, ErrorCode.UPSTREAM_TIMEOUT, f"upstream {service!r} timed out")
    except httpx.HTTPError as exc:
        metrics.PROXY_REQUESTS.labels(service, "502").inc()
        return problem(
            502,
            ErrorCode.UPSTREAM_FAILED,
            f"upstream {service!r} is unreachable ({type(exc).__name__})",
        )
    finally:
        metrics.PROXY_LATENCY.labels(service).observe(time.perf_counter() - started)
    metrics.PROXY_REQUESTS.labels(service, str(upstream.status_code)).inc()
    if upstream.status_code >= 500 and upstream.status_code != 503:
        return problem(
            502,
            ErrorCode.UPSTREAM_FAILED,
            f"upstream {service!r} failed with {upstream.status_code}",
            upstream_status=upstream.status_code,
        )
    out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
    out_headers["traceparent"] = trace.traceparent
    return Response(upstream.content, status_code=upstream.status_code, headers=out_headers)

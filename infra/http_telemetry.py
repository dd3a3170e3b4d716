"""Per-request telemetry for every HTTP front: a correlation id, a log line, latency, a count."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from opentelemetry import trace
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.logs import correlation_id, new_correlation_id
from infra.telemetry import UNTRACED_PATHS

log = logging.getLogger(__name__)

REQUESTS = Counter(
    "saga_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
LATENCY = Histogram(
    "saga_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)

REQUEST_ID_HEADER = b"x-request-id"
TRACE_ID_HEADER = b"x-trace-id"
# A caller's id is echoed into logs and headers, so only short, plain ids are taken.
_SAFE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
# Probes and scrapes every few seconds would be most of the lines; they log at DEBUG. Matched
# as the tracing exclusion matches them (anywhere in the path: /api/health too).
_ROUTINE = re.compile("|".join(re.escape(path) for path in UNTRACED_PATHS.split(",")))


class ObservedRequests:
    """ASGI middleware: `X-Request-Id` in and out, one JSON log line, latency, count.

    The answer names its trace in `X-Trace-Id`, to look its log lines up; the line carries
    method, route template, status, duration and the authenticated caller's subject.

    Pure ASGI rather than `BaseHTTPMiddleware`, so WebSockets and streaming pass untouched
    and the route template is read after routing has filled it in.
    """

    def __init__(self, app: ASGIApp, service: str, timed: Histogram | None = None) -> None:
        self.app = app
        self.service = service
        # A front's own latency histogram (labels method, route, status), timed in this one
        # place so a request is measured once.
        self.timed = timed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap one HTTP request; other scopes pass through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers", [])).get(REQUEST_ID_HEADER, b"")
        request_id = sent.decode() if _SAFE_ID.match(sent) else new_correlation_id()
        token = correlation_id.set(request_id)
        span = trace.get_current_span().get_span_context()
        trace_id = f"{span.trace_id:032x}".encode() if span.is_valid else None
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if REQUEST_ID_HEADER not in names:
                    headers.append((REQUEST_ID_HEADER, request_id.encode()))
                if trace_id is not None and TRACE_ID_HEADER not in names:
                    headers.append((TRACE_ID_HEADER, trace_id))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = str(scope.get("method", "GET"))
            took = time.perf_counter() - started
            LATENCY.labels(self.service, method, route).observe(took)
            if self.timed is not None:
                self.timed.labels(method, route, str(status)).observe(took)
            REQUESTS.labels(self.service, method, route, str(status)).inc()
            _log_request(scope, method, route, status, took)
            correlation_id.reset(token)


def _log_request(scope: Scope, method: str, route: str, status: int, took: float) -> None:
    # Auth leaves the verified claims in the request's state (apis/auth.py `request_claims`).
    state: dict[str, Any] = scope.get("state") or {}
    claims = state.get("claims")
    fields = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(took * 1000, 2),
        "subject": getattr(claims, "subject", None),
    }
    level = logging.DEBUG if _ROUTINE.search(str(scope.get("path", ""))) else logging.INFO
    log.log(level, "%s %s %d", method, route, status, extra=fields)

"""W3C trace context of each gateway request or socket, propagated to upstreams.

Logging is infra.telemetry's; this only names the trace the gateway works in.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass

from opentelemetry import trace as otel_trace

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True)
class TraceContext:
    """The trace a request belongs to and the span the gateway opened for it."""

    trace_id: str
    span_id: str
    parent_span_id: str | None = None

    @property
    def traceparent(self) -> str:
        """The header that continues this trace in an upstream."""
        return f"00-{self.trace_id}-{self.span_id}-01"

    @classmethod
    def from_header(cls, header: str | None) -> TraceContext:
        """The active OpenTelemetry span when tracing is on; else continue the caller's trace.

        Without a valid caller trace (none sent, or garbage) a new one starts.
        """
        active = otel_trace.get_current_span().get_span_context()
        if active.is_valid:
            return cls(f"{active.trace_id:032x}", f"{active.span_id:016x}")
        match = _TRACEPARENT.match(header.strip().lower()) if header else None
        span = secrets.token_hex(8)
        if match and match.group(1) != "0" * 32:
            return cls(match.group(1), span, match.group(2))
        return cls(secrets.token_hex(16), span)


current_trace: ContextVar[TraceContext | None] = ContextVar("current_trace", default=None)

"""JSON logs carrying correlation ids, and W3C trace context propagated to upstreams."""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar
from dataclasses import dataclass

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
        """Continue the caller's trace, or start a new one when it sent none (or garbage)."""
        match = _TRACEPARENT.match(header.strip().lower()) if header else None
        span = secrets.token_hex(8)
        if match and match.group(1) != "0" * 32:
            return cls(match.group(1), span, match.group(2))
        return cls(secrets.token_hex(16), span)


current_trace: ContextVar[TraceContext | None] = ContextVar("current_trace", default=None)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with trace_id/span_id of the current request."""

    _SKIP = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as JSON."""
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        trace = current_trace.get()
        if trace is not None:
            entry["trace_id"] = trace.trace_id
            entry["span_id"] = trace.span_id
        for key, value in vars(record).items():
            if key not in self._SKIP and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(level: str) -> None:
    """Send every log line of the process to stdout as JSON."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())

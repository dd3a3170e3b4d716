"""JSON log lines on stdout for every process and every library in it, with the trace's ids."""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from contextvars import ContextVar
from typing import TextIO

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

# Loggers that libraries give their own handlers (uvicorn's default config does): they lose
# them and propagate to the root, so their lines come out in the same JSON as ours.
LIBRARY_LOGGERS = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "uvicorn.asgi",
    "grpc",
    "temporalio",
)
_QUIETED = ("uvicorn.access", "httpx", "temporalio.activity")


def new_correlation_id() -> str:
    """A fresh id for one request or message, when the caller sent none."""
    return uuid.uuid4().hex


class _TraceContextFilter(logging.Filter):
    """Stamp every record with the current span's ids and the correlation id."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = f"{context.trace_id:032x}" if context.is_valid else None
        record.span_id = f"{context.span_id:016x}" if context.is_valid else None
        record.correlation_id = correlation_id.get()
        record.service = self.service
        return True


class _CancelledAtShutdown(logging.Filter):
    """Drop uvicorn's traceback for a request it cancelled at the end of its grace period.

    The server's own shutdown line counts those requests (infra/serving.py); one traceback
    each would bury it when thousands of sockets are open.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, asyncio.CancelledError)


def json_log_handler(service: str, stream: TextIO | None = None) -> logging.Handler:
    """JSON lines (stdout by default): time, level, logger, message, service, trace_id, ..."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.addFilter(_TraceContextFilter(service))
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{service}{trace_id}{span_id}{correlation_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    return handler


def configure_logging(service: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """Every log line of the process as JSON (stdout by default), with the current trace's ids."""
    root = logging.getLogger()
    root.handlers[:] = [json_log_handler(service, stream)]
    root.setLevel(level.upper())
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _CancelledAtShutdown) for f in uvicorn_errors.filters):
        uvicorn_errors.addFilter(_CancelledAtShutdown())
    for noisy in _QUIETED:
        logging.getLogger(noisy).setLevel(logging.WARNING)

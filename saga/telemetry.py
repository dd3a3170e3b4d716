"""Logging and tracing set up once per process: JSON logs carrying trace and correlation ids."""

from __future__ import annotations

import logging
import sys
import uuid
from contextvars import ContextVar
from typing import Literal

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from pythonjsonlogger.json import JsonFormatter

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


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


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout: time, level, logger, message, service, trace_id, span_id, ..."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_TraceContextFilter(service))
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{service}{trace_id}{span_id}{correlation_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "httpx", "temporalio.activity"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def configure_tracing(
    service: str, exporter: Literal["none", "console", "otlp"]
) -> TracerProvider | None:
    """Install a tracer provider exporting to the chosen sink; `none` installs nothing."""
    if exporter == "none":
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider

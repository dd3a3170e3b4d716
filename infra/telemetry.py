"""Logs, traces and library instrumentation, set up once per process by `configure_telemetry`.

Logs are JSON lines on stdout carrying the current span's trace and span ids and a
correlation id. Traces go to the exporter that TRACE_EXPORTER names (none, console, otlp);
with one set, FastAPI, httpx, asyncpg, Redis and gRPC calls become spans, and the
Temporal client carries the context into workflows and activities.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Literal, Protocol, TextIO

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import NonRecordingSpan, SpanContext
from pythonjsonlogger.json import JsonFormatter

if TYPE_CHECKING:
    from fastapi import FastAPI
    from temporalio.client import Interceptor

    from infra.settings import PlatformSettings

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

# Probes and scrapes would otherwise be most of the spans and say nothing.
UNTRACED_PATHS = "/health,/ready,/metrics"


class _Instrumentor(Protocol):
    @property
    def is_instrumented_by_opentelemetry(self) -> bool: ...
    def instrument(self, **kwargs: object) -> None: ...
    def uninstrument(self, **kwargs: object) -> None: ...


_provider: TracerProvider | None = None


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


def configure_logging(service: str, level: str = "INFO") -> None:
    """Every log line of the process as JSON on stdout, with the current trace's ids."""
    root = logging.getLogger()
    root.handlers[:] = [json_log_handler(service)]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "httpx", "temporalio.activity"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def configure_telemetry(service: str, settings: PlatformSettings) -> TracerProvider | None:
    """The one start-up call of every process: JSON logs, then tracing if an exporter is set."""
    configure_logging(service, settings.log_level)
    return configure_tracing(
        service, settings.trace_exporter, otlp_endpoint=settings.otel_exporter_otlp_endpoint
    )


def configure_tracing(
    service: str,
    exporter: Literal["none", "console", "otlp"],
    *,
    otlp_endpoint: str | None = None,
    span_exporter: SpanExporter | None = None,
) -> TracerProvider | None:
    """Export spans to the chosen sink and instrument the libraries; `none` does nothing.

    `span_exporter` (tests: an in-memory one) replaces the sink and exports each span at once;
    it is not made the process's global provider, so `shutdown_tracing` undoes it all.
    """
    global _provider
    if exporter == "none" and span_exporter is None:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if span_exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    elif exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = f"{otlp_endpoint.rstrip('/')}/v1/traces" if otlp_endpoint else None
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    if span_exporter is None:
        # Whatever asks for the global provider gets ours too. It can be set only once per
        # process, so an injected test exporter stays local and shutdown_tracing undoes it.
        trace.set_tracer_provider(provider)
    _provider = provider
    _instrument_libraries(provider)
    return provider


def shutdown_tracing() -> None:
    """Flush and stop the provider and undo the library instrumentation (tests, shutdown)."""
    global _provider
    if _provider is None:
        return
    for instrumentor in _instrumentors():
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    _provider.shutdown()
    _provider = None


def tracing_enabled() -> bool:
    """Whether this process records spans (an exporter was configured)."""
    return _provider is not None


def tracer(name: str) -> trace.Tracer:
    """A tracer of the configured provider (a no-op one while tracing is off)."""
    return (_provider or trace.get_tracer_provider()).get_tracer(name)


def instrument_app(app: FastAPI) -> FastAPI:
    """Server spans for one FastAPI app (WebSockets: one span per connection), if tracing.

    Probes and scrapes stay untraced; FastAPI's own tracing steps aside for this one.
    """
    if _provider is not None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=_provider,
            excluded_urls=UNTRACED_PATHS,
            exclude_spans=["receive", "send"],
        )
    return app


def temporal_interceptors() -> list[Interceptor]:
    """Temporal's tracing interceptor while tracing is on: it links workflows to their caller."""
    if _provider is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(tracer=_provider.get_tracer("temporalio"))]


@contextmanager
def untraced() -> Iterator[None]:
    """No spans inside, here or downstream: background work that serves no one request.

    Library calls make no spans, and whatever carries the context on (a Temporal start, an
    HTTP call) carries a not-sampled flag, so the far side records nothing either: a
    sweeper started at boot would otherwise put every tick in one endless trace.
    """
    ids = RandomIdGenerator()
    unsampled = NonRecordingSpan(
        SpanContext(ids.generate_trace_id(), ids.generate_span_id(), is_remote=False)
    )
    with trace.use_span(unsampled, end_on_exit=False), suppress_instrumentation():
        yield


def current_trace_carrier() -> dict[str, str]:
    """The current trace context as W3C headers (`traceparent`), to store with a message."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from_carrier(carrier: Mapping[str, str] | None) -> otel_context.Context:
    """The trace context a stored message was written in (an empty one if it has none)."""
    return propagate.extract(dict(carrier or {}))


def _instrumentors() -> list[_Instrumentor]:
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.grpc import (
        GrpcAioInstrumentorClient,
        GrpcAioInstrumentorServer,
    )
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    # Instrumentors are singletons, so these are the same objects on every call.
    return [
        AsyncPGInstrumentor(),  # type: ignore[no-untyped-call]
        GrpcAioInstrumentorClient(),  # type: ignore[no-untyped-call]
        GrpcAioInstrumentorServer(),  # type: ignore[no-untyped-call]
        HTTPXClientInstrumentor(),
        RedisInstrumentor(),
    ]


def _instrument_libraries(provider: TracerProvider) -> None:
    # Read by the httpx instrumentation when it is set up: health probes stay untraced.
    os.environ.setdefault("OTEL_PYTHON_HTTPX_EXCLUDED_URLS", UNTRACED_PATHS)
    for instrumentor in _instrumentors():
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
        instrumentor.instrument(tracer_provider=provider)

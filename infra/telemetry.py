"""Traces and library instrumentation, set up once per process by `configure_telemetry`.

Every request, WebSocket frame, gRPC call and activity runs in a span, so its log lines
(infra/logs.py) carry trace and span ids and its outgoing calls carry `traceparent`.
TRACE_EXPORTER picks where spans go: with `none` (the default) they get ids and go nowhere;
with `console` or `otlp`, FastAPI, httpx, asyncpg, Redis and gRPC calls and the Temporal
client's workflows and activities are recorded and exported.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal, Protocol

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
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from opentelemetry.trace import NonRecordingSpan, SpanContext

from infra.logs import configure_logging

if TYPE_CHECKING:
    from fastapi import FastAPI
    from temporalio.client import Interceptor

    from infra.settings import PlatformSettings

# Probes and scrapes would otherwise be most of the spans and say nothing.
UNTRACED_PATHS = "/health,/ready,/metrics"


class _Instrumentor(Protocol):
    @property
    def is_instrumented_by_opentelemetry(self) -> bool: ...
    def instrument(self, **kwargs: object) -> None: ...
    def uninstrument(self, **kwargs: object) -> None: ...


_provider: TracerProvider | None = None
_exporting = False


def configure_telemetry(service: str, settings: PlatformSettings) -> TracerProvider | None:
    """The one start-up call of every process: JSON logs, then spans (exported if one is set)."""
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
    """Instrument the libraries and export spans to the chosen sink; the exporting provider.

    With `none`, spans only carry ids (nothing is recorded unless a caller sampled the trace,
    nothing is exported) and None is returned. `span_exporter` (tests: an in-memory one)
    replaces the sink and exports each span at once; it is not made the process's global
    provider, so `shutdown_tracing` undoes it all.
    """
    global _provider, _exporting
    resource = Resource.create({"service.name": service})
    _exporting = exporter != "none" or span_exporter is not None
    if not _exporting:
        # Ids without the cost of recording: a trace is recorded only if a caller sampled it,
        # so one that an exporting process started stays whole as it passes through here.
        _provider = TracerProvider(resource=resource, sampler=ParentBased(ALWAYS_OFF))
        _instrument_libraries(_provider, exporting=False)
        return None
    provider = TracerProvider(resource=resource)
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
    _instrument_libraries(provider, exporting=True)
    return provider


def shutdown_tracing() -> None:
    """Flush and stop the provider and undo the library instrumentation (tests, shutdown)."""
    global _provider, _exporting
    if _provider is None:
        return
    for instrumentor in _instrumentors():
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    _provider.shutdown()
    _provider, _exporting = None, False


def tracing_enabled() -> bool:
    """Whether this process exports spans (an exporter was configured)."""
    return _exporting


def tracer(name: str) -> trace.Tracer:
    """A tracer of the configured provider (a no-op one before `configure_tracing`)."""
    return (_provider or trace.get_tracer_provider()).get_tracer(name)


def instrument_app(app: FastAPI) -> FastAPI:
    """Server spans for one FastAPI app (WebSockets: one span per connection).

    A no-op before `configure_tracing`. Probes and scrapes stay untraced; FastAPI's own
    tracing steps aside for this one.
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
    """Temporal's tracing interceptor: activities run in a span linked to the workflow's caller."""
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
    """Every library instrumented; those that carry a trace to the next process come first."""
    return [*_propagating(), *_recording_only()]


def _propagating() -> list[_Instrumentor]:
    """gRPC and httpx carry the trace context across processes (and set it on arrival)."""
    from opentelemetry.instrumentation.grpc import (
        GrpcAioInstrumentorClient,
        GrpcAioInstrumentorServer,
    )
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    # Instrumentors are singletons, so these are the same objects on every call.
    return [
        GrpcAioInstrumentorClient(),  # type: ignore[no-untyped-call]
        GrpcAioInstrumentorServer(),  # type: ignore[no-untyped-call]
        HTTPXClientInstrumentor(),
    ]


def _recording_only() -> list[_Instrumentor]:
    """asyncpg and Redis only record client spans: nothing travels with their commands."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    return [AsyncPGInstrumentor(), RedisInstrumentor()]  # type: ignore[no-untyped-call]


def _instrument_libraries(provider: TracerProvider, *, exporting: bool) -> None:
    """Instrument what this process needs: all of it when it exports spans, else the carriers.

    A process that exports nothing drops every span it records, so wrapping each Redis
    command or SQL query in a span only costs CPU (the worker's Redis calls spent about 4% of
    its CPU in the wrapper at 50 busy poker tables); gRPC and httpx stay instrumented, so the
    trace ids still reach the next process and this one's log lines.
    """
    # Read by the httpx instrumentation when it is set up: health probes stay untraced.
    os.environ.setdefault("OTEL_PYTHON_HTTPX_EXCLUDED_URLS", UNTRACED_PATHS)
    for instrumentor in _instrumentors():
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    for instrumentor in _instrumentors() if exporting else _propagating():
        instrumentor.instrument(tracer_provider=provider)

"""The telemetry module: JSON log lines carry the trace; untraced work stays out of traces."""

from __future__ import annotations

import io
import json
import logging

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider

from infra.logs import correlation_id, json_log_handler
from infra.telemetry import (
    configure_tracing,
    context_from_carrier,
    current_trace_carrier,
    shutdown_tracing,
    tracing_enabled,
    untraced,
)


def _log_line(message: str) -> dict[str, object]:
    stream = io.StringIO()
    logger = logging.getLogger(f"test.telemetry.{message}")
    logger.addHandler(json_log_handler("unit", stream))
    logger.propagate = False
    logger.warning(message)
    loaded: dict[str, object] = json.loads(stream.getvalue())
    return loaded


def test_a_log_line_is_json_with_the_current_span_and_correlation_id() -> None:
    tracer = TracerProvider().get_tracer("unit")
    token = correlation_id.set("req-42")
    try:
        with tracer.start_as_current_span("work") as span:
            line = _log_line("inside")
    finally:
        correlation_id.reset(token)
    context = span.get_span_context()
    assert line["message"] == "inside"
    assert line["level"] == "WARNING"
    assert line["service"] == "unit"
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"
    assert line["correlation_id"] == "req-42"


def test_outside_any_span_the_ids_are_null() -> None:
    line = _log_line("outside")
    assert line["trace_id"] is None
    assert line["correlation_id"] is None


def test_a_stored_carrier_continues_its_trace() -> None:
    tracer = TracerProvider().get_tracer("unit")
    with tracer.start_as_current_span("edge request") as request:
        carrier = current_trace_carrier()
    with tracer.start_as_current_span("relay", context=context_from_carrier(carrier)) as relay:
        pass
    assert "traceparent" in carrier
    assert isinstance(relay, ReadableSpan)
    assert relay.get_span_context().trace_id == request.get_span_context().trace_id
    assert relay.parent is not None
    assert relay.parent.span_id == request.get_span_context().span_id


def test_untraced_work_records_nothing_and_says_so_downstream() -> None:
    tracer = TracerProvider().get_tracer("unit")
    with untraced(), tracer.start_as_current_span("sweeper tick") as tick:
        carrier = current_trace_carrier()
    assert not tick.is_recording()
    assert carrier["traceparent"].endswith("-00"), carrier  # not sampled
    assert not trace.get_current_span().get_span_context().is_valid


def test_tracing_is_off_by_default() -> None:
    try:
        assert configure_tracing("unit", "none") is None
        assert not tracing_enabled()
    finally:
        shutdown_tracing()


def test_without_an_exporter_only_the_context_carriers_are_instrumented() -> None:
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    try:
        configure_tracing("unit", "none")
        # httpx (and gRPC) carry the trace to the next process; spans of Redis commands or
        # SQL queries would be dropped unexported, so they are not made at all.
        assert HTTPXClientInstrumentor().is_instrumented_by_opentelemetry
        assert not RedisInstrumentor().is_instrumented_by_opentelemetry
        assert not AsyncPGInstrumentor().is_instrumented_by_opentelemetry  # type: ignore[no-untyped-call]
        configure_tracing("unit", "console")
        assert RedisInstrumentor().is_instrumented_by_opentelemetry
        assert AsyncPGInstrumentor().is_instrumented_by_opentelemetry  # type: ignore[no-untyped-call]
    finally:
        shutdown_tracing()
    assert not RedisInstrumentor().is_instrumented_by_opentelemetry

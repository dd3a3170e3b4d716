"""With no exporter configured, each activity runs in a span: its log lines carry the trace."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator

import pytest
from temporalio import activity
from temporalio.worker import Worker

from bench.noop_saga import NoopSagaWorkflow, start_attributes
from infra.logs import json_log_handler
from infra.telemetry import configure_tracing, shutdown_tracing
from infra.temporal_client import connect_temporal
from tests.conftest import SessionStack

log = logging.getLogger("tests.activity_trace")


@activity.defn(name="bench_noop")
async def logged_step(step: str) -> str:
    """The floor's no-op step, saying which step it is."""
    log.warning("step %s", step)
    return step


@pytest.fixture
def ids_only() -> Iterator[None]:
    """Tracing as a process has it by default (TRACE_EXPORTER=none), before it connects."""
    configure_tracing("activity-test", "none")
    try:
        yield
    finally:
        shutdown_tracing()


async def test_every_activity_log_line_names_the_workflows_trace(
    stack: SessionStack, ids_only: None
) -> None:
    stream = io.StringIO()
    handler = json_log_handler("activity-test", stream)
    log.addHandler(handler)
    try:
        client = (await connect_temporal(stack.settings())).client
        prefix = f"trace-{uuid.uuid4().hex[:8]}"
        workers = [
            Worker(client, task_queue=f"{prefix}-saga", workflows=[NoopSagaWorkflow]),
            *(
                Worker(client, task_queue=f"{prefix}-{queue}", activities=[logged_step])
                for queue in ("orders", "inventory", "payments")
            ),
        ]
        workflow_id = f"{prefix}-run"
        async with workers[0], workers[1], workers[2], workers[3]:
            await client.execute_workflow(
                NoopSagaWorkflow.run,
                args=[prefix, "trace-customer", 100],
                id=workflow_id,
                task_queue=f"{prefix}-saga",
                search_attributes=start_attributes("trace-customer", 100),
            )
    finally:
        log.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [
        "step create_order",
        "step reserve_inventory",
        "step capture_payment",
        "step confirm_order",
    ]
    assert {line["correlation_id"] for line in lines} == {workflow_id}
    trace_ids = {line["trace_id"] for line in lines}
    assert len(trace_ids) == 1, lines  # one workflow, one trace
    assert len(str(trace_ids.pop())) == 32
    assert len({line["span_id"] for line in lines}) == 4  # one span per activity

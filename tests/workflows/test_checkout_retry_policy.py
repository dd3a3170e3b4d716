"""The saga's own retry policy, read from what the workflow schedules, exhausted on skipped time.

No test option overrides the policy here: the saga runs with production's SagaOptions (1 s,
x4, 5 attempts: 1, 4, 16, 64 s between them), on the time-skipping server, so the whole
exhaustion takes no real time.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from domain.checkout.models import Accepted
from domain.payments.models import PspUnavailable
from domain.payments.psp import MockPsp
from tests.checkout_support import accept_order, ledger_view, saga_input, saga_worker, seed_catalog
from workflows.checkout.models import SagaOptions
from workflows.checkout.order_saga import OrderSagaWorkflow


class CaptureAlwaysDown(MockPsp):
    """The mock PSP with capture unreachable for ever (void still answers)."""

    async def capture(self, *args: Any, **kwargs: Any) -> Any:
        """Never answers."""
        raise PspUnavailable("the PSP did not answer")


async def test_capture_exhausts_the_production_policy_then_compensates(
    time_skipping_env: WorkflowEnvironment, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    await seed_catalog(db)
    task_queue = f"test-{uuid.uuid4()}"
    placed = await accept_order(db, redis, MockPsp(db))
    assert isinstance(placed, Accepted)
    ledger_id = str(placed.order_ledger_id)
    tested = await saga_input(db, ledger_id, task_queue)
    production = SagaOptions()
    saga = dataclasses.replace(
        tested,
        options=dataclasses.replace(
            production,
            orders_task_queue=task_queue,
            inventory_task_queue=task_queue,
            payments_task_queue=task_queue,
        ),
    )
    client = time_skipping_env.client
    async with saga_worker(client, task_queue, db, redis, CaptureAlwaysDown(db)):
        handle = await client.start_workflow(
            OrderSagaWorkflow.run, saga, id=f"order-{ledger_id}", task_queue=task_queue
        )
        result = await handle.result()
    assert result.status == "FAILED"
    view = await ledger_view(db, ledger_id)
    assert view["status"] == "FAILED"
    statuses = [s.get("status") for s in view["steps"] if s.get("status")]
    assert statuses[-2:] == ["COMPENSATING", "FAILED"]

    history = await handle.fetch_history()
    scheduled = {}
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = (attrs.activity_type.name, attrs.retry_policy, event)
    capture = next(v for v in scheduled.values() if v[0] == "capture_payment")
    policy = capture[1]
    # What the workflow really asks Temporal for: the seed's 1 s, x4, 5 attempts.
    assert policy.initial_interval.ToTimedelta().total_seconds() == 1
    assert policy.backoff_coefficient == 4
    assert policy.maximum_attempts == 5
    assert policy.maximum_interval.ToTimedelta().total_seconds() == 64
    started = next(
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.scheduled_event_id == capture[2].event_id
    )
    assert started.activity_task_started_event_attributes.attempt == 5
    # The last attempt started after the four backoffs, 1 + 4 + 16 + 64 s of skipped time.
    waited = started.event_time.ToDatetime() - capture[2].event_time.ToDatetime()
    assert waited.total_seconds() >= 85
    # Compensations never give up (maximum_attempts 0 = unlimited).
    void = next(v for v in scheduled.values() if v[0] == "void_payment")
    assert void[1].maximum_attempts == 0
    assert view["retry_count"] >= 4

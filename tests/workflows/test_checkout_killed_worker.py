"""A worker SIGKILLed after a step's effect is committed and before Temporal hears of it.

The dangerous case for exactly-once: the capture is applied (or the stock reserved, or the
order created), and the activity's completion is lost with the process. Creating the order and
reserving its stock run as local activities of the saga's worker, so the kill also loses the
workflow task they ran in; the capture is a regular activity on `payments`. The worker runs as a
real `saga worker` child process with a fault point armed (infra/faults.py); it dies by
SIGKILL at that point; a second worker finishes the saga. The step's effect must exist once.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from contextlib import AbstractContextManager
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from domain.checkout.models import Accepted, AcceptedOrder, workflow_id_for
from domain.payments.psp import MockPsp
from infra.faults import FAULT_ONCE_FILE, FAULT_POINT
from tests.checkout_support import accept_order, ledger_view, seed_catalog
from tests.conftest import SessionStack
from tests.worker_process import saga_worker_process
from workflows.checkout.models import OrderSagaInput, SagaOptions
from workflows.checkout.order_saga import OrderSagaWorkflow

QUEUES = ["order-saga", "orders", "inventory", "payments"]
# Run by the saga's own worker as local activities (SagaOptions.local_steps, the default).
LOCAL_STEPS = {"create_order", "reserve_inventory"}


def worker(
    stack: SessionStack, home: Path, **fault: str
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """`saga worker` for the order saga's queues against the session's servers."""
    return saga_worker_process(stack, home, QUEUES, **fault)


async def _effects(db: asyncpg.Pool, ledger_id: str) -> dict[str, int]:
    """How many times each step's effect exists for this order."""
    ledger = uuid.UUID(ledger_id)
    order_id = await db.fetchval("SELECT order_id FROM orders WHERE order_ledger_id = $1", ledger)
    authorization = await db.fetchval(
        "SELECT authorization_id FROM order_ledger WHERE order_ledger_id = $1", ledger
    )
    return {
        "create_order": int(
            await db.fetchval("SELECT count(*) FROM orders WHERE order_ledger_id = $1", ledger)
        ),
        # The order holds 2 widgets: reserved twice would show as 4.
        "reserve_inventory": int(
            await db.fetchval("SELECT stock_reserved FROM products WHERE product_id = 'widget'")
        )
        // 2
        if order_id is not None
        else 0,
        "capture_payment": int(
            await db.fetchval(
                "SELECT count(*) FROM payment_operations WHERE authorization_id = $1 "
                "AND operation = 'capture' AND outcome = 'captured'",
                authorization,
            )
        ),
    }


@pytest.mark.parametrize("step", ["create_order", "reserve_inventory", "capture_payment"])
async def test_a_step_killed_after_its_effect_applies_once(
    step: str,
    stack: SessionStack,
    temporal_client: Client,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    tmp_path: Path,
) -> None:
    await seed_catalog(db)
    placed = await accept_order(db, redis, MockPsp(db))
    assert isinstance(placed, Accepted)
    ledger_id = str(placed.order_ledger_id)
    payload = await db.fetchval(
        "SELECT payload FROM outbox WHERE aggregate_id = $1", placed.order_ledger_id
    )
    # Production's queues and policy, with a short activity timeout: the killed attempt is
    # retried once its 3 s run out, not after the default 30 s.
    saga = OrderSagaInput.of(
        AcceptedOrder.from_json(payload),
        SagaOptions(activity_timeout_seconds=3, retry_initial_interval_ms=100),
    )
    fired = tmp_path / "fired"
    armed = {FAULT_POINT: f"after_effect:{step}", FAULT_ONCE_FILE: str(fired)}
    with worker(stack, tmp_path, **armed) as doomed:
        handle = await temporal_client.start_workflow(
            OrderSagaWorkflow.run, saga, id=workflow_id_for(ledger_id), task_queue="order-saga"
        )
        returncode = await asyncio.to_thread(doomed.wait, 60)
    assert returncode == -9, "the worker should have died by SIGKILL at the fault point"
    assert fired.exists()
    assert (await _effects(db, ledger_id))[step] == 1  # committed before the kill
    with worker(stack, tmp_path):
        result = await asyncio.wait_for(handle.result(), timeout=90)
    assert result.status == "CONFIRMED"
    assert await _effects(db, ledger_id) == {
        "create_order": 1,
        "reserve_inventory": 1,
        "capture_payment": 1,
    }
    view = await ledger_view(db, ledger_id)
    recorded = sorted(s["outcome"] for s in view["steps"] if s["step"] == step)
    if step in LOCAL_STEPS:
        # A local step dies with its workflow task: the history shows that task timing out,
        # and the next worker's run of the step finds it recorded and applies nothing.
        events = (await handle.fetch_history()).events
        assert any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT for e in events)
        assert recorded == ["completed"], recorded
        assert view["retry_count"] == 0
    else:
        # Recorded once; the killed attempt is counted as timed out by the next one.
        assert recorded == ["completed", "timed_out"], recorded
        assert view["retry_count"] == 1

"""The order saga on a real Temporal dev server, with real PostgreSQL and Valkey."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.converter import DataConverter

from domain.checkout.models import Declined
from domain.payments.psp import MockPsp
from saga.replay import REPLAY_DIR
from tests.checkout_support import (
    accept_order,
    ledger_view,
    saga_input,
    saga_worker,
    seed_catalog,
    step_names,
)
from tests.eventually import assert_eventually
from workflows.checkout.models import SagaResult, SagaState
from workflows.checkout.order_saga import OrderSagaWorkflow

COMPENSATIONS = [
    ("release_inventory", "compensated"),
    ("cancel_order", "compensated"),
    ("void_payment", "compensated"),
]


@pytest.fixture
async def psp(db: asyncpg.Pool) -> MockPsp:
    await seed_catalog(db)
    return MockPsp(db)


async def _run_saga(
    client: Client,
    task_queue: str,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    psp: MockPsp,
    order_ledger_id: str,
) -> tuple[SagaResult, SagaState]:
    """Run the saga to its end; also answer the `state` query while the worker is up."""
    saga = await saga_input(db, order_ledger_id, task_queue)
    async with saga_worker(client, task_queue, db, redis, psp):
        handle = await client.start_workflow(
            OrderSagaWorkflow.run, saga, id=f"order-{order_ledger_id}", task_queue=task_queue
        )
        result = await handle.result()
        state = await handle.query(OrderSagaWorkflow.state)
    await keep_history(handle)
    return result, state


async def keep_history(handle: WorkflowHandle[Any, Any]) -> None:
    """With SAGA_RECORD_HISTORIES=1, check the run's history in for the replay tests."""
    if not os.environ.get("SAGA_RECORD_HISTORIES"):
        return
    name = os.environ.get("PYTEST_CURRENT_TEST", "run").split("::")[-1].split(" ")[0]
    target = REPLAY_DIR / "order_saga" / f"{name.removeprefix('test_')}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text((await handle.fetch_history()).to_json())


async def test_success_confirms_and_announces_each_status(
    temporal_client: Client, task_queue: str, db: asyncpg.Pool, redis: aioredis.Redis, psp: MockPsp
) -> None:
    pubsub = redis.pubsub()
    await pubsub.subscribe("user:cust-1")
    answer = await accept_order(db, redis, psp)
    ledger_id = str(answer.order_ledger_id)

    result, state = await _run_saga(temporal_client, task_queue, db, redis, psp, ledger_id)

    assert result.status == "CONFIRMED"
    view = await ledger_view(db, ledger_id)
    assert view["status"] == "CONFIRMED"
    assert step_names(view) == [
        ("authorize_payment", "completed"),
        ("create_order", "completed"),
        ("reserve_inventory", "completed"),
        ("capture_payment", "completed"),
        ("confirm_order", "completed"),
    ]
    assert await db.fetchval("SELECT status FROM orders") == "CONFIRMED"
    assert await db.fetchval("SELECT stock_reserved FROM products WHERE product_id = 'widget'") == 2
    assert await db.fetchval("SELECT status FROM payment_authorizations") == "CAPTURED"
    statuses: list[str] = []
    for _ in range(20):
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is None:
            continue
        payload = json.loads(message["data"])
        assert payload["kind"] == "order.status"
        assert payload["order_ledger_id"] == ledger_id
        statuses.append(payload["status"])
        if len(statuses) == 5:
            break
    assert statuses == [
        "AUTHORIZED",
        "ORDER_CREATED",
        "INVENTORY_RESERVED",
        "PAYMENT_CAPTURED",
        "CONFIRMED",
    ]
    await pubsub.aclose()

    handle = temporal_client.get_workflow_handle(f"order-{ledger_id}")
    assert state.completed_steps == [
        "create_order",
        "reserve_inventory",
        "capture_payment",
        "confirm_order",
    ]
    described = await handle.describe()
    attributes = {key.name: value for key, value in described.typed_search_attributes}
    assert attributes["OrderStatus"] == "CONFIRMED"
    assert attributes["CustomerId"] == "cust-1"
    assert attributes["OrderTotalCents"] == 2500
    authorization = await db.fetchval("SELECT authorization_id FROM payment_authorizations")
    assert await _step_summaries(handle) == [
        ("local", f"create order {state.order_id} for customer cust-1"),
        ("local", "reserve 2 x widget"),
        ("activity", f"capture 2500 cents (USD) of {authorization}"),
        ("local", f"confirm order {state.order_id}"),
    ]
    # Status is upserted where a list can see it: waiting at the PSP, and at the end.
    assert await _upserted_statuses(handle) == ["INVENTORY_RESERVED", "CONFIRMED"]


async def _step_summaries(handle: WorkflowHandle[Any, Any]) -> list[tuple[str, str]]:
    """What the Temporal UI shows for each step: local activity markers and activities."""
    converter = DataConverter.default.payload_converter
    found = []
    for event in (await handle.fetch_history()).events:
        if not event.user_metadata.HasField("summary"):
            continue
        kind = "local" if event.HasField("marker_recorded_event_attributes") else "activity"
        found.append((kind, converter.from_payload(event.user_metadata.summary, str)))
    return found


async def _upserted_statuses(handle: WorkflowHandle[Any, Any]) -> list[str]:
    converter = DataConverter.default.payload_converter
    found = []
    for event in (await handle.fetch_history()).events:
        if event.HasField("upsert_workflow_search_attributes_event_attributes"):
            fields = event.upsert_workflow_search_attributes_event_attributes
            status = fields.search_attributes.indexed_fields.get("OrderStatus")
            if status is not None:
                found.append(converter.from_payload(status, str))
    return found


async def test_declined_at_authorization_starts_no_saga(
    db: asyncpg.Pool, redis: aioredis.Redis, psp: MockPsp
) -> None:
    answer = await accept_order(db, redis, psp, payment_method="pm_card_declined")

    assert isinstance(answer, Declined)
    assert answer.status == "PAYMENT_DECLINED"
    assert await db.fetchval("SELECT count(*) FROM outbox") == 0
    view = await ledger_view(db, str(answer.order_ledger_id))
    assert view["status"] == "PAYMENT_DECLINED"


async def test_out_of_stock_compensates_to_failed(
    temporal_client: Client, task_queue: str, db: asyncpg.Pool, redis: aioredis.Redis, psp: MockPsp
) -> None:
    answer = await accept_order(db, redis, psp, items=[("gadget", 5)])
    ledger_id = str(answer.order_ledger_id)

    result, _ = await _run_saga(temporal_client, task_queue, db, redis, psp, ledger_id)

    assert result.status == "FAILED"
    assert result.failure_reason is not None
    assert result.failure_reason.startswith("OUT_OF_STOCK")
    view = await ledger_view(db, ledger_id)
    assert view["status"] == "FAILED"
    assert view["failure_reason"] == result.failure_reason
    assert step_names(view)[2:] == [
        ("reserve_inventory", "failed"),
        *COMPENSATIONS,
        ("compensation", "completed"),
    ]
    assert await db.fetchval("SELECT status FROM orders") == "CANCELLED"
    assert await db.fetchval("SELECT status FROM payment_authorizations") == "VOIDED"
    assert await db.fetchval("SELECT sum(stock_reserved) FROM products") == 0
    # The UI's list shows it failed and why.
    handle = temporal_client.get_workflow_handle(f"order-{ledger_id}")
    described = await handle.describe()
    attributes = {key.name: value for key, value in described.typed_search_attributes}
    assert attributes["OrderStatus"] == "FAILED"
    assert attributes["FailureReason"] == result.failure_reason
    assert await _upserted_statuses(handle) == ["COMPENSATING", "FAILED"]


async def test_capture_declined_voids_releases_and_cancels(
    temporal_client: Client, task_queue: str, db: asyncpg.Pool, redis: aioredis.Redis, psp: MockPsp
) -> None:
    answer = await accept_order(db, redis, psp, payment_method="pm_capture_declined")
    ledger_id = str(answer.order_ledger_id)

    result, state = await _run_saga(temporal_client, task_queue, db, redis, psp, ledger_id)

    assert result.status == "FAILED"
    assert result.failure_reason is not None
    assert result.failure_reason.startswith("CAPTURE_DECLINED")
    view = await ledger_view(db, ledger_id)
    assert step_names(view)[3:] == [
        ("capture_payment", "failed"),
        *COMPENSATIONS,
        ("compensation", "completed"),
    ]
    # Declined captures are not retried: the PSP saw exactly one.
    assert await db.fetchval("SELECT capture_attempts FROM payment_authorizations") == 1
    assert await db.fetchval("SELECT sum(stock_reserved) FROM products") == 0
    assert await db.fetchval("SELECT status FROM orders") == "CANCELLED"
    handle = temporal_client.get_workflow_handle(f"order-{ledger_id}")
    assert state.compensations_run == ["release_inventory", "cancel_order", "void_payment"]
    described = await handle.describe()
    attributes = {key.name: value for key, value in described.typed_search_attributes}
    assert attributes["OrderStatus"] == "FAILED"
    assert str(attributes["FailureReason"]).startswith("CAPTURE_DECLINED")


async def test_flaky_capture_recovers_after_retries(
    temporal_client: Client, task_queue: str, db: asyncpg.Pool, redis: aioredis.Redis, psp: MockPsp
) -> None:
    answer = await accept_order(db, redis, psp, payment_method="pm_capture_flaky")
    ledger_id = str(answer.order_ledger_id)

    result, _ = await _run_saga(temporal_client, task_queue, db, redis, psp, ledger_id)

    assert result.status == "CONFIRMED"
    view = await ledger_view(db, ledger_id)
    assert view["retry_count"] == 2
    assert view["next_retry_at"] is None
    retries = [s for s in view["steps"] if s["outcome"] == "retrying"]
    assert [(s["step"], s["attempt"]) for s in retries] == [
        ("capture_payment", 1),
        ("capture_payment", 2),
    ]
    assert await db.fetchval("SELECT capture_attempts FROM payment_authorizations") == 3


async def test_worker_killed_mid_saga_completes_exactly_once(
    temporal_client: Client, task_queue: str, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    await seed_catalog(db)
    slow_psp = MockPsp(db, latency_ms=400)
    answer = await accept_order(db, redis, MockPsp(db))
    ledger_id = str(answer.order_ledger_id)
    saga = await saga_input(db, ledger_id, task_queue)

    first = saga_worker(temporal_client, task_queue, db, redis, slow_psp)
    async with first:
        handle = await temporal_client.start_workflow(
            OrderSagaWorkflow.run, saga, id=f"order-{ledger_id}", task_queue=task_queue
        )

        async def reserved() -> None:
            assert (await ledger_view(db, ledger_id))["status"] == "INVENTORY_RESERVED"

        await assert_eventually(reserved, timeout=20)
    # The first worker is gone while the capture was in flight; a new one takes over.
    async with saga_worker(temporal_client, task_queue, db, redis, MockPsp(db)):
        result = await handle.result()

    assert result.status == "CONFIRMED"
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    await keep_history(handle)
    assert await db.fetchval("SELECT count(*) FROM orders") == 1
    assert await db.fetchval("SELECT count(*) FROM inventory_reservations") == 1
    assert await db.fetchval("SELECT stock_reserved FROM products WHERE product_id = 'widget'") == 2
    captures = await db.fetchval(
        "SELECT count(*) FROM payment_operations WHERE operation = 'capture' "
        "AND outcome = 'captured'"
    )
    assert captures == 1
    view = await ledger_view(db, ledger_id)
    completed = [name for name, outcome in step_names(view) if outcome == "completed"]
    assert completed == [
        "authorize_payment",
        "create_order",
        "reserve_inventory",
        "capture_payment",
        "confirm_order",
    ]
    assert uuid.UUID(str(view["order_id"]))

"""Helpers of the order saga tests: a catalog, accepted orders, a worker hosting the saga."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from temporalio.client import Client
from temporalio.worker import Worker

from activities.checkout import SagaLedger
from domain.checkout.models import AcceptedOrder, OrderRequest, Placement
from domain.checkout.service import CheckoutService
from domain.inventory.models import StockLine
from domain.inventory.repository import InventoryRepository
from domain.payments.psp import MockPsp
from saga.workers.checkout import (
    inventory_activities,
    orders_activities,
    payments_activities,
)
from workflows.checkout.models import OrderSagaInput, SagaOptions
from workflows.checkout.order_saga import OrderSagaWorkflow

CATALOG = [("widget", "Widget", 1250, 10), ("gadget", "Gadget", 4999, 3)]


async def seed_catalog(pool: asyncpg.Pool) -> None:
    """The test catalog: widget (12.50, 10 in stock) and gadget (49.99, 3 in stock)."""
    async with pool.acquire() as conn, conn.transaction():
        repository = InventoryRepository(conn)
        for product_id, name, price, stock in CATALOG:
            await repository.create_product(product_id, name, price, stock)


class LocalAuthorizer:
    """The edge's authorization port, answered by an in-process mock PSP."""

    def __init__(self, psp: MockPsp) -> None:
        self._psp = psp

    async def authorize(
        self, payment_method: str, amount_cents: int, currency: str, idempotency_key: str
    ) -> str:
        """Authorize through the PSP and return the authorization id."""
        found = await self._psp.authorize(payment_method, amount_cents, currency, idempotency_key)
        return found.authorization_id


async def accept_order(
    pool: asyncpg.Pool,
    redis: aioredis.Redis,
    psp: MockPsp,
    *,
    payment_method: str = "pm_card_visa",
    items: list[tuple[str, int]] | None = None,
    customer_id: str = "cust-1",
) -> Placement:
    """What POST /orders does, without HTTP."""
    request = OrderRequest(
        customer_id,
        [StockLine(pid, qty) for pid, qty in (items or [("widget", 2)])],
        payment_method,
        "USD",
    )
    service = CheckoutService(pool, LocalAuthorizer(psp), redis)
    return await service.place_order(f"key-{uuid.uuid4()}", request)


async def saga_input(pool: asyncpg.Pool, order_ledger_id: str, task_queue: str) -> OrderSagaInput:
    """The outbox payload of an accepted order, routed to the test's own task queue."""
    payload: str = await pool.fetchval(
        "SELECT payload FROM outbox WHERE aggregate_id = $1", uuid.UUID(order_ledger_id)
    )
    options = SagaOptions(
        orders_task_queue=task_queue,
        inventory_task_queue=task_queue,
        payments_task_queue=task_queue,
        retry_initial_interval_ms=50,
    )
    return OrderSagaInput.of(AcceptedOrder.from_json(payload), options)


def saga_worker(
    client: Client, task_queue: str, pool: asyncpg.Pool, redis: aioredis.Redis, psp: MockPsp
) -> Worker:
    """One worker hosting the saga and every activity on the test's queue."""
    ledger = SagaLedger(pool, redis)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[OrderSagaWorkflow],
        activities=[
            *orders_activities(ledger),
            *inventory_activities(ledger),
            *payments_activities(psp, ledger),
        ],
    )


async def ledger_view(pool: asyncpg.Pool, order_ledger_id: str) -> dict[str, Any]:
    """The ledger row of an order with its steps decoded."""
    row = await pool.fetchrow(
        "SELECT status, failure_reason, retry_count, next_retry_at, steps, order_id "
        "FROM order_ledger WHERE order_ledger_id = $1",
        uuid.UUID(order_ledger_id),
    )
    assert row is not None
    return {**dict(row), "steps": json.loads(row["steps"])}


def step_names(view: dict[str, Any]) -> list[tuple[str, str]]:
    """(step, outcome) of each recorded step, in order."""
    return [(step["step"], step["outcome"]) for step in view["steps"]]

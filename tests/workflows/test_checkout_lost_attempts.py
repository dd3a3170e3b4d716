"""`retry_count` counts an attempt that timed out, which raised nothing to count, exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from temporalio.client import Client

from domain.checkout.models import Accepted
from domain.payments.models import PspUnavailable
from domain.payments.psp import MockPsp
from tests.checkout_support import accept_order, ledger_view, saga_input, saga_worker, seed_catalog
from workflows.checkout.order_saga import OrderSagaWorkflow

ACTIVITY_TIMEOUT_SECONDS = 1.0


class FirstCaptureHangs(MockPsp):
    """The mock PSP whose first capture outlives its activity's timeout, then fails late."""

    hung = False

    async def capture(self, *args: Any, **kwargs: Any) -> Any:
        """Hang past the timeout once (a stuck call, or a worker gone quiet), then answer."""
        if not self.hung:
            self.hung = True
            await asyncio.sleep(ACTIVITY_TIMEOUT_SECONDS * 3)
            raise PspUnavailable("answered after its attempt had timed out")
        return await super().capture(*args, **kwargs)


async def test_a_timed_out_attempt_is_counted_once(
    temporal_client: Client, task_queue: str, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    await seed_catalog(db)
    psp = FirstCaptureHangs(db)
    placed = await accept_order(db, redis, psp)
    assert isinstance(placed, Accepted)
    ledger_id = str(placed.order_ledger_id)
    tested = await saga_input(db, ledger_id, task_queue)
    saga = dataclasses.replace(
        tested,
        options=dataclasses.replace(
            tested.options, activity_timeout_seconds=ACTIVITY_TIMEOUT_SECONDS
        ),
    )
    async with saga_worker(temporal_client, task_queue, db, redis, psp):
        handle = await temporal_client.start_workflow(
            OrderSagaWorkflow.run, saga, id=f"order-{ledger_id}", task_queue=task_queue
        )
        result = await asyncio.wait_for(handle.result(), 30)
        # The hung first attempt fails late, after its successor counted it: still once.
        await asyncio.sleep(ACTIVITY_TIMEOUT_SECONDS * 3)
    assert result.status == "CONFIRMED"
    view = await ledger_view(db, ledger_id)
    failed = [
        (s["step"], s["outcome"], s["attempt"])
        for s in view["steps"]
        if s["outcome"] in ("retrying", "timed_out")
    ]
    assert failed == [("capture_payment", "timed_out", 1)]
    assert view["retry_count"] == 1
    assert await db.fetchval("SELECT capture_attempts FROM payment_authorizations") == 1

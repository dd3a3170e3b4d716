"""The outbox relay: NOTIFY wake-ups, idempotent starts, and orders that outlive an outage."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import redis.asyncio as aioredis
from temporalio.client import Client

from apis.checkout.relay import OutboxRelay
from domain.payments.psp import MockPsp
from infra.ports import free_port
from tests.checkout_support import accept_order, ledger_view, saga_worker, seed_catalog
from tests.conftest import SessionStack
from tests.eventually import assert_eventually
from workflows.checkout.models import SagaOptions
from workflows.checkout.starter import OrderSagaStarter


@pytest.fixture
async def psp(db: asyncpg.Pool) -> MockPsp:
    await seed_catalog(db)
    return MockPsp(db)


def _starter(client: Client, task_queue: str) -> OrderSagaStarter:
    options = SagaOptions(
        orders_task_queue=task_queue,
        inventory_task_queue=task_queue,
        payments_task_queue=task_queue,
    )
    return OrderSagaStarter(client, task_queue, options)


async def test_notify_wakes_the_relay_and_the_saga_confirms(
    stack: SessionStack,
    temporal_client: Client,
    task_queue: str,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    psp: MockPsp,
) -> None:
    # A poll interval far beyond the test's patience: only NOTIFY can wake the relay in time.
    relay = OutboxRelay(db, _starter(temporal_client, task_queue), poll_interval=600)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stack.database_url, stop))
    try:

        async def idle() -> None:
            # LISTEN is set up before the first pass, which found nothing to do.
            assert relay.passes == 1

        await assert_eventually(idle)
        async with saga_worker(temporal_client, task_queue, db, redis, psp):
            ledger_id = str((await accept_order(db, redis, psp)).order_ledger_id)

            async def published() -> None:
                assert await relay.pending() == 0
                assert (relay.wakeups, relay.passes) == (1, 2)

            # Within 2 s, with the next poll 600 s away: the NOTIFY woke it, for one more pass.
            await assert_eventually(published, timeout=2)

            async def confirmed() -> None:
                assert (await ledger_view(db, ledger_id))["status"] == "CONFIRMED"

            await assert_eventually(confirmed, timeout=15)
    finally:
        stop.set()
        await running
    assert await relay.pending() == 0


async def test_orders_accepted_while_temporal_is_down_start_when_it_returns(
    temporal_client: Client, task_queue: str, db: asyncpg.Pool, redis: aioredis.Redis, psp: MockPsp
) -> None:
    down = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    ledger_id = str((await accept_order(db, redis, psp)).order_ledger_id)

    outage = await OutboxRelay(db, _starter(down, task_queue)).drain_once()

    assert (outage.published, outage.failed) == (0, 1)
    row = await db.fetchrow("SELECT published_at, attempts, last_error FROM outbox")
    assert row is not None
    assert row["published_at"] is None
    assert row["attempts"] == 1
    assert row["last_error"]

    back = OutboxRelay(db, _starter(temporal_client, task_queue))
    assert await back.drain() == 1
    handle = temporal_client.get_workflow_handle(f"order-{ledger_id}")
    assert (await handle.describe()).id == f"order-{ledger_id}"
    assert await back.pending() == 0
    await handle.terminate("no worker in this test")


async def test_publishing_a_row_twice_starts_one_saga(
    temporal_client: Client, task_queue: str, db: asyncpg.Pool, redis: aioredis.Redis, psp: MockPsp
) -> None:
    ledger_id = str((await accept_order(db, redis, psp)).order_ledger_id)
    relay = OutboxRelay(db, _starter(temporal_client, task_queue))
    assert await relay.drain() == 1
    first_run = (await temporal_client.get_workflow_handle(f"order-{ledger_id}").describe()).run_id

    await db.execute("UPDATE outbox SET published_at = NULL")
    assert await relay.drain() == 1

    handle = temporal_client.get_workflow_handle(f"order-{ledger_id}")
    assert (await handle.describe()).run_id == first_run
    await handle.terminate("no worker in this test")


async def test_a_dropped_database_connection_does_not_stop_the_relay(
    stack: SessionStack, temporal_client: Client, task_queue: str
) -> None:
    # A pool whose connections are gone answers asyncpg.InterfaceError, as PostgreSQL
    # restarting under the relay did in `saga prove`; the relay must keep polling, not exit.
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=1)
    relay = OutboxRelay(pool, _starter(temporal_client, task_queue), poll_interval=0.1)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stack.database_url, stop))
    try:
        await asyncio.sleep(0.3)
        await pool.close()

        async def failing_and_alive() -> None:
            assert relay.last_error is not None
            assert "InterfaceError" in relay.last_error
            assert not running.done()

        await assert_eventually(failing_and_alive, timeout=5)
        await asyncio.sleep(0.3)  # several more polls against the dead pool
        assert not running.done()
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=5)

"""The balance workflows: the sweeper on skipped time, verification on the dev server."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import redis.asyncio as aioredis
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.balance import BalanceActivities
from domain.balance import keys
from domain.balance.book import BalanceBook
from domain.balance.commands import Credit, Reserve
from domain.balance.replies import text
from domain.balance.types import ReservationStatus
from infra.settings import PlatformSettings
from saga.workers import WorkerResources
from saga.workers.balance import balance_worker as balance_worker_factory
from saga.workers.balance import ensure_expiry_workflow, ensure_verification_schedule
from tests.balance_support import make_book
from tests.eventually import assert_eventually
from workflows.balance.expiry import ReservationExpiryWorkflow
from workflows.balance.models import (
    CORRUPT_LEDGER_ENTRY,
    EXPIRY_WORKFLOW_ID,
    LEDGER_INTEGRITY,
    VERIFICATION_SCHEDULE_ID,
    CorruptEntry,
    ExpiryInput,
    VerificationInput,
)
from workflows.balance.verification import LedgerVerificationWorkflow


def balance_worker(client: Client, task_queue: str, book: BalanceBook) -> Worker:
    activities = BalanceActivities(book)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ReservationExpiryWorkflow, LedgerVerificationWorkflow],
        activities=[activities.release_expired_reservations, activities.verify_ledger_page],
    )


async def test_sweeper_expires_on_time_and_continues_as_new(
    time_skipping_env: WorkflowEnvironment, redis: aioredis.Redis, task_queue: str
) -> None:
    book = make_book(redis)
    await book.accounts.credit(Credit(account_id="sam", amount=500, idempotency_key="fund"))
    held = await book.reservations.reserve(
        Reserve(account_id="sam", amount=200, ttl_seconds=30, idempotency_key="r")
    )
    client = time_skipping_env.client
    async with balance_worker(client, task_queue, book):
        await ensure_expiry_workflow(
            client, task_queue, ExpiryInput(interval_seconds=5, sweeps_per_run=3)
        )
        # Started again by a restarted worker: the same singleton, not a second sweeper.
        await ensure_expiry_workflow(
            client, task_queue, ExpiryInput(interval_seconds=5, sweeps_per_run=3)
        )
        first_run = (await client.get_workflow_handle(EXPIRY_WORKFLOW_ID).describe()).run_id
        before = await book.reservations.get(held.reservation.reservation_id)
        assert before.status is ReservationStatus.PENDING
        await time_skipping_env.sleep(timedelta(seconds=45))
        handle = client.get_workflow_handle(EXPIRY_WORKFLOW_ID)
        described = await handle.describe()
        status = await handle.query(ReservationExpiryWorkflow.status)
        await handle.terminate("test over")
    assert (await book.reservations.get(held.reservation.reservation_id)).status is (
        ReservationStatus.EXPIRED
    )
    assert (await book.accounts.get_balance("sam")).available == 500
    assert described.run_id != first_run
    assert described.status is WorkflowExecutionStatus.RUNNING
    assert status.total_expired == 1


async def test_verification_flags_the_first_bad_entry_in_the_ui(
    temporal_client: Client, redis: aioredis.Redis, task_queue: str
) -> None:
    book = make_book(redis)
    for account in ("ok1", "bad", "ok2"):
        for n in range(3):
            await book.accounts.credit(
                Credit(account_id=account, amount=10, idempotency_key=f"{account}-{n}")
            )
    entry = text(await redis.lindex(keys.ledger("bad"), 1) or b"")
    await redis.lset(keys.ledger("bad"), 1, entry.replace("|10|0|20|", "|99|0|20|"))
    async with balance_worker(temporal_client, task_queue, book):
        handle = await temporal_client.start_workflow(
            LedgerVerificationWorkflow.run,
            VerificationInput(page_size=2),
            id=f"verify-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        report = await handle.result()
        described = await handle.describe()
    assert report.accounts == 3
    assert report.corrupt == [CorruptEntry("bad", 2, "checksum does not match the entry")]
    attributes = described.typed_search_attributes
    assert attributes.get(LEDGER_INTEGRITY) == "CORRUPT"
    assert attributes.get(CORRUPT_LEDGER_ENTRY) == "bad#2"


async def test_verification_is_incremental_and_clean_runs_say_ok(
    temporal_client: Client, redis: aioredis.Redis, task_queue: str
) -> None:
    book = make_book(redis)
    for n in range(4):
        await book.accounts.credit(Credit(account_id="tia", amount=10, idempotency_key=f"c{n}"))
    async with balance_worker(temporal_client, task_queue, book):
        first = await temporal_client.execute_workflow(
            LedgerVerificationWorkflow.run,
            VerificationInput(),
            id=f"v-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        await book.accounts.credit(Credit(account_id="tia", amount=10, idempotency_key="c9"))
        handle = await temporal_client.start_workflow(
            LedgerVerificationWorkflow.run,
            VerificationInput(),
            id=f"v-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        second = await handle.result()
        attributes = (await handle.describe()).typed_search_attributes
    assert (first.entries, second.entries) == (4, 1)
    assert attributes.get(LEDGER_INTEGRITY) == "OK"


async def test_the_verification_schedule_is_created_once(
    temporal_client: Client, task_queue: str
) -> None:
    await ensure_verification_schedule(temporal_client, timedelta(minutes=10), task_queue)
    await ensure_verification_schedule(temporal_client, timedelta(minutes=10), task_queue)
    schedule = temporal_client.get_schedule_handle(VERIFICATION_SCHEDULE_ID)
    try:
        description = await schedule.describe()
        assert description.schedule.spec.intervals[0].every == timedelta(minutes=10)
    finally:
        await schedule.delete()


async def test_the_balance_worker_starts_its_sweeper_and_schedule(
    temporal_client: Client, redis: aioredis.Redis, settings: PlatformSettings
) -> None:
    async with httpx.AsyncClient() as http:
        resources = WorkerResources(settings, temporal_client, None, redis, http)  # type: ignore[arg-type]
        async with balance_worker_factory(resources):

            async def running() -> None:
                try:
                    expiry = temporal_client.get_workflow_handle(EXPIRY_WORKFLOW_ID)
                    described = await expiry.describe()
                    await temporal_client.get_schedule_handle(VERIFICATION_SCHEDULE_ID).describe()
                except RPCError as not_yet:
                    raise AssertionError(str(not_yet)) from None
                assert described.status is WorkflowExecutionStatus.RUNNING

            try:
                await assert_eventually(running, timeout=15)
            finally:
                await temporal_client.get_workflow_handle(EXPIRY_WORKFLOW_ID).terminate("test over")
                await temporal_client.get_schedule_handle(VERIFICATION_SCHEDULE_ID).delete()

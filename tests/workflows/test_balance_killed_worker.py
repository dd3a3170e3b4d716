"""The reservation sweeper's worker SIGKILLed right after a sweep expired a reservation.

The balance context's own money activity: `release_expired_reservations` frees the chips of
every due reservation. The worker runs as a real `saga worker balance` child with a fault
point armed (infra/faults.py); it dies by SIGKILL after the sweep's effect is in Valkey and
before Temporal hears the activity completed. A second worker runs the sweep again (after the
lost attempt's 30 s timeout): the reservation must be expired, and its chips freed, once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis.asyncio as aioredis
from temporalio.client import Client

from domain.balance.commands import Credit, Reserve
from domain.balance.types import ReservationStatus
from infra.faults import FAULT_ONCE_FILE, FAULT_POINT
from tests.balance_support import make_book
from tests.conftest import SessionStack
from tests.eventually import assert_eventually
from tests.worker_process import saga_worker_process
from workflows.balance.expiry import ReservationExpiryWorkflow
from workflows.balance.models import EXPIRY_WORKFLOW_ID, VERIFICATION_SCHEDULE_ID

FAST_SWEEPS = {"BALANCE_EXPIRY_INTERVAL_SECONDS": "1"}


async def test_a_sweep_killed_after_it_expired_a_reservation_expires_it_once(
    stack: SessionStack, temporal_client: Client, redis: aioredis.Redis, tmp_path: Path
) -> None:
    book = make_book(redis)
    await book.accounts.credit(Credit(account_id="kim", amount=500, idempotency_key="fund"))
    held = await book.reservations.reserve(
        Reserve(account_id="kim", amount=200, ttl_seconds=1, idempotency_key="hold")
    )
    reservation = held.reservation.reservation_id
    fired = tmp_path / "fired"
    armed = {
        **FAST_SWEEPS,
        FAULT_POINT: "after_effect:release_expired_reservations",
        FAULT_ONCE_FILE: str(fired),
    }
    sweeper = temporal_client.get_workflow_handle(EXPIRY_WORKFLOW_ID)
    try:
        with saga_worker_process(stack, tmp_path, ["balance"], **armed) as doomed:
            returncode = await asyncio.to_thread(doomed.wait, 60)
        assert returncode == -9, "the worker should have died by SIGKILL at the fault point"
        assert fired.exists()
        # The sweep's effect was committed before the kill.
        assert (await book.reservations.get(reservation)).status is ReservationStatus.EXPIRED
        with saga_worker_process(stack, tmp_path, ["balance"], **FAST_SWEEPS):

            async def swept_again() -> None:
                assert (await sweeper.query(ReservationExpiryWorkflow.status)).sweeps >= 2

            await assert_eventually(swept_again, timeout=90)
    finally:
        await sweeper.terminate("test over")
        await temporal_client.get_schedule_handle(VERIFICATION_SCHEDULE_ID).delete()
    account = await book.accounts.get_balance("kim")
    assert (account.balance, account.reserved, account.available) == (500, 0, 500)
    kinds = [tx.type for tx in await book.accounts.transactions("kim", limit=50)]
    assert sorted(kinds) == ["CREDIT", "EXPIRE", "RESERVE"], kinds
    assert (await book.ledger.verify("kim")).valid

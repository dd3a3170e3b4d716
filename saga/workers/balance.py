"""The `balance` task queue's worker; it also starts the sweeper and the verification schedule."""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from activities.balance import BalanceActivities
from domain.balance.book import BalanceBook
from domain.balance.settings import BalanceSettings
from infra.telemetry import untraced
from saga.workers.resources import WorkerResources
from workflows.balance.expiry import ReservationExpiryWorkflow
from workflows.balance.models import (
    BALANCE_TASK_QUEUE,
    EXPIRY_WORKFLOW_ID,
    VERIFICATION_SCHEDULE_ID,
    ExpiryInput,
    VerificationInput,
)
from workflows.balance.verification import LedgerVerificationWorkflow

log = logging.getLogger(__name__)


async def ensure_expiry_workflow(
    client: Client, task_queue: str = BALANCE_TASK_QUEUE, params: ExpiryInput | None = None
) -> None:
    """Start the singleton sweeper unless it runs already (its fixed id makes this idempotent)."""
    await client.start_workflow(
        ReservationExpiryWorkflow.run,
        params or ExpiryInput(),
        id=EXPIRY_WORKFLOW_ID,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


async def ensure_verification_schedule(
    client: Client, every: timedelta, task_queue: str = BALANCE_TASK_QUEUE
) -> None:
    """Create the verification Schedule unless it exists."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            LedgerVerificationWorkflow.run,
            VerificationInput(),
            id=VERIFICATION_SCHEDULE_ID,
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(VERIFICATION_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:
        log.debug("schedule %s exists", VERIFICATION_SCHEDULE_ID)


class BalanceWorker(Worker):
    """A worker that makes sure its long-running workflows exist when it starts."""

    def __init__(self, client: Client, settings: BalanceSettings, **kwargs: object) -> None:
        super().__init__(client, **kwargs)  # type: ignore[arg-type]
        self._temporal = client
        self._settings = settings

    async def run(self) -> None:
        """Start the sweeper and the schedule (idempotently), then poll."""
        try:
            # Untraced: the sweeper runs for ever, and each tick would join the start's trace.
            with untraced():
                await ensure_expiry_workflow(
                    self._temporal,
                    params=ExpiryInput(
                        interval_seconds=self._settings.balance_expiry_interval_seconds
                    ),
                )
                await ensure_verification_schedule(
                    self._temporal,
                    timedelta(seconds=self._settings.balance_verification_interval_seconds),
                )
        except Exception:
            log.exception("could not start the balance sweeper or schedule; will retry on restart")
        await super().run()


def balance_worker(resources: WorkerResources) -> Worker:
    """Hosts the balance workflows and activities on `balance`."""
    settings = BalanceSettings()
    book = BalanceBook.build(resources.redis, house_account_id=settings.balance_house_account_id)
    activities = BalanceActivities(book)
    return BalanceWorker(
        resources.client,
        settings,
        task_queue=BALANCE_TASK_QUEUE,
        workflows=[ReservationExpiryWorkflow, LedgerVerificationWorkflow],
        activities=[activities.release_expired_reservations, activities.verify_ledger_page],
    )

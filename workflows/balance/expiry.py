"""ReservationExpiryWorkflow: a singleton that expires due reservations every few seconds."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.balance import BalanceActivities
    from workflows.balance.models import (
        BALANCE_RETRY,
        ExpireDueInput,
        ExpiryInput,
        ExpiryStatus,
    )


@workflow.defn
class ReservationExpiryWorkflow:
    """Sweeps on a durable timer and continues as new before its history grows long."""

    def __init__(self) -> None:
        self._sweeps = 0
        self._expired = 0
        self._total = 0

    @workflow.run
    async def run(self, params: ExpiryInput) -> None:
        """Sweep `sweeps_per_run` times, then continue as new with the running total."""
        self._total = params.total_expired
        while self._sweeps < params.sweeps_per_run:
            self._sweeps += 1
            now_ms = int(workflow.now().timestamp() * 1000)
            try:
                swept = await workflow.execute_activity_method(
                    BalanceActivities.release_expired_reservations,
                    ExpireDueInput(now_ms, params.batch_size),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=BALANCE_RETRY,
                    summary="expire due reservations",
                )
            except ActivityError as exc:
                # Redis down for a minute must not end the singleton: the next sweep catches up.
                workflow.logger.warning("sweep failed, retrying at the next tick: %s", exc)
                await workflow.sleep(params.interval_seconds)
                continue
            self._expired += swept.expired
            self._total += swept.expired
            if swept.remaining == 0:
                await workflow.sleep(params.interval_seconds)
        workflow.continue_as_new(
            ExpiryInput(
                params.interval_seconds, params.sweeps_per_run, params.batch_size, self._total
            )
        )

    @workflow.query
    def status(self) -> ExpiryStatus:
        """Sweeps and expirations of this run, and the total since the first run."""
        return ExpiryStatus(self._sweeps, self._expired, self._total)

"""BalanceReconciliationWorkflow: a singleton that settles what a balance outage left queued."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.game_reconciliation import ReconcileInput, Reconciliation

RECONCILIATION_WORKFLOW_ID = "game-balance-reconciliation"
_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)


@workflow.defn
class BalanceReconciliationWorkflow:
    """Every `interval_seconds`, makes the queued money moves; continues as new now and then."""

    def __init__(self) -> None:
        self._applied = 0
        self._refused = 0

    @workflow.run
    async def run(self, interval_seconds: float = 15.0, runs_per_history: int = 200) -> None:
        """Reconcile until the history should be renewed."""
        for _ in range(runs_per_history):
            try:
                result = await workflow.execute_activity_method(
                    Reconciliation.reconcile_queued_moves,
                    ReconcileInput(),
                    start_to_close_timeout=timedelta(minutes=2),
                    retry_policy=_RETRY,
                    summary="make the money moves queued during a balance outage",
                )
            except ActivityError as exc:
                workflow.logger.warning("reconciliation failed, next tick retries: %s", exc)
                await workflow.sleep(interval_seconds)
                continue
            self._applied += result.applied
            self._refused += result.refused
            if result.remaining == 0 or result.unreachable:
                await workflow.sleep(interval_seconds)
        workflow.continue_as_new(args=[interval_seconds, runs_per_history])

    @workflow.query
    def status(self) -> dict[str, int]:
        """Moves made and refused by this run."""
        return {"applied": self._applied, "refused": self._refused}

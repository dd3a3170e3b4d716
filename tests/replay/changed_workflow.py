"""A deliberately changed workflow, the negative control of the replay test."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.balance.models import ExpiryInput


@workflow.defn(name="ReservationExpiryWorkflow")
class ChangedExpiryWorkflow:
    """The sweeper with its first step changed: a timer where the history has an activity."""

    @workflow.run
    async def run(self, params: ExpiryInput) -> None:
        """Sleep first, which no recorded run did."""
        await workflow.sleep(params.interval_seconds)

"""The engine floor: the order saga's shape (four regular activities, three queues), no work."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

STEPS = (
    ("create_order", "orders"),
    ("reserve_inventory", "inventory"),
    ("capture_payment", "payments"),
    ("confirm_order", "orders"),
)


@activity.defn(name="bench_noop")
async def noop(step: str) -> str:
    """An activity that does no work."""
    return step


@workflow.defn
class NoopSagaWorkflow:
    """Runs the four no-op steps in order on `{queue_prefix}-{context}` task queues."""

    @workflow.run
    async def run(self, queue_prefix: str) -> None:
        """Run the steps."""
        for step, queue in STEPS:
            await workflow.execute_activity(
                noop,
                step,
                task_queue=f"{queue_prefix}-{queue}",
                start_to_close_timeout=timedelta(seconds=30),
            )

"""The engine floor: the order saga's shape on the same server, with activities doing no work.

Same shape means what the Temporal server sees is the same: a start carrying the saga's search
attributes, four regular activities on three task queues with summaries, and the search
attribute upsert after each step that makes orders findable in the UI. Only the activities'
work (PostgreSQL, the PSP, Redis) is missing.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes

with workflow.unsafe.imports_passed_through():
    from workflows.checkout.order_saga import CUSTOMER_ID, ORDER_STATUS, ORDER_TOTAL_CENTS

STEPS = (
    ("create_order", "orders", "ORDER_CREATED"),
    ("reserve_inventory", "inventory", "INVENTORY_RESERVED"),
    ("capture_payment", "payments", "PAYMENT_CAPTURED"),
    ("confirm_order", "orders", "CONFIRMED"),
)


def start_attributes(customer_id: str, total_cents: int) -> TypedSearchAttributes:
    """The search attributes the outbox relay starts every order saga with."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(ORDER_STATUS, "AUTHORIZED"),
            SearchAttributePair(CUSTOMER_ID, customer_id),
            SearchAttributePair(ORDER_TOTAL_CENTS, total_cents),
        ]
    )


@activity.defn(name="bench_noop")
async def noop(step: str) -> str:
    """An activity that does no work."""
    return step


@workflow.defn
class NoopSagaWorkflow:
    """Runs the four no-op steps in order on `{queue_prefix}-{context}` task queues."""

    @workflow.run
    async def run(self, queue_prefix: str, customer_id: str, total_cents: int) -> None:
        """Run the steps, upserting the status after each as the order saga does."""
        for step, queue, status in STEPS:
            await workflow.execute_activity(
                noop,
                step,
                task_queue=f"{queue_prefix}-{queue}",
                start_to_close_timeout=timedelta(seconds=30),
                summary=f"{step} (no work)",
            )
            workflow.upsert_search_attributes(
                [
                    ORDER_STATUS.value_set(status),
                    CUSTOMER_ID.value_set(customer_id),
                    ORDER_TOTAL_CENTS.value_set(total_cents),
                ]
            )


@workflow.defn
class PlainFloorWorkflow:
    """The plain floor: four no-op regular activities on one queue, and nothing else.

    No search attributes, summaries or upserts: what the engine itself needs to run four
    steps, the figure a player's wait is measured against.
    """

    @workflow.run
    async def run(self, activity_queue: str) -> None:
        """Run the four steps in order."""
        for step, _, _ in STEPS:
            await workflow.execute_activity(
                noop, step, task_queue=activity_queue, start_to_close_timeout=timedelta(seconds=30)
            )

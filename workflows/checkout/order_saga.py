"""The order saga: create order, reserve inventory, capture payment, confirm; or compensate."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.checkout import LedgerActivities
    from activities.inventory import InventoryActivities
    from activities.orders import OrderActivities
    from activities.payments import PaymentActivities
    from domain.checkout.models import LedgerStatus
    from domain.orders.models import order_id_for
    from workflows.checkout.models import (
        CreateOrderInput,
        InventoryInput,
        LedgerStatusInput,
        OrderSagaInput,
        OrderStepInput,
        PaymentInput,
        SagaResult,
        SagaState,
    )

ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
ORDER_TOTAL_CENTS = SearchAttributeKey.for_int("OrderTotalCents")
FAILURE_REASON = SearchAttributeKey.for_text("FailureReason")


@dataclass(frozen=True)
class Compensation:
    """An undo step, registered before the step it undoes runs."""

    step: str
    run: Callable[[], Awaitable[Any]]


@workflow.defn
class OrderSagaWorkflow:
    """Drives one accepted order to CONFIRMED, or compensates it to FAILED with a reason."""

    def __init__(self) -> None:
        self._state = SagaState(status=LedgerStatus.AUTHORIZED.value)

    @workflow.query
    def state(self) -> SagaState:
        """Where the saga is, what it did and what it undid."""
        return self._state

    @workflow.run
    async def run(self, saga: OrderSagaInput) -> SagaResult:
        """Run the four steps; on a permanent failure undo what was done, newest first."""
        self._saga = saga
        ledger_id = saga.order_ledger_id
        order_id = str(order_id_for(uuid.UUID(ledger_id)))
        self._state.order_id = order_id
        queues = saga.options
        payment = PaymentInput(ledger_id, saga.authorization_id)
        order = OrderStepInput(ledger_id, order_id)
        stock = InventoryInput(ledger_id, order_id, saga.items)
        # The edge's authorization is the saga's first effect, so its void is registered first.
        undo = [
            self._undo(PaymentActivities.void_payment, payment, queues.payments_task_queue),
        ]
        try:
            undo.append(self._undo(OrderActivities.cancel_order, order, queues.orders_task_queue))
            await self._step(
                OrderActivities.create_order,
                CreateOrderInput(ledger_id, saga.customer_id, saga.items, saga.currency),
                queues.orders_task_queue,
                LedgerStatus.ORDER_CREATED,
                f"create order {order_id} for customer {saga.customer_id}",
            )
            undo.append(
                self._undo(
                    InventoryActivities.release_inventory, stock, queues.inventory_task_queue
                )
            )
            await self._step(
                InventoryActivities.reserve_inventory,
                stock,
                queues.inventory_task_queue,
                LedgerStatus.INVENTORY_RESERVED,
                "reserve " + ", ".join(f"{i.quantity} x {i.product_id}" for i in saga.items),
            )
            await self._step(
                PaymentActivities.capture_payment,
                payment,
                queues.payments_task_queue,
                LedgerStatus.PAYMENT_CAPTURED,
                f"capture {saga.total_cents} cents ({saga.currency}) of {saga.authorization_id}",
            )
            await self._step(
                OrderActivities.confirm_order,
                order,
                queues.orders_task_queue,
                LedgerStatus.CONFIRMED,
                f"confirm order {order_id}",
            )
        except ActivityError as err:
            await self._compensate(undo, err.activity_type or "unknown", _reason(err))
        except asyncio.CancelledError:
            await self._compensate(undo, "saga", "CANCELLED: the workflow was cancelled")
            raise
        state = self._state
        return SagaResult(ledger_id, state.status, order_id, state.failure_reason)

    async def _step(
        self, fn: Any, arg: Any, task_queue: str, status: LedgerStatus, summary: str
    ) -> None:
        await self._execute(fn, arg, task_queue, summary, until_done=False)
        self._state.completed_steps.append(fn.__name__)
        self._set_status(status)

    def _undo(self, fn: Any, arg: Any, task_queue: str) -> Compensation:
        summary = f"compensate: {fn.__name__}"
        return Compensation(
            fn.__name__, lambda: self._execute(fn, arg, task_queue, summary, until_done=True)
        )

    async def _compensate(self, undo: list[Compensation], failed_step: str, reason: str) -> None:
        self._state.failure_reason = reason
        await self._record(LedgerStatus.COMPENSATING, failed_step, "failed")
        for compensation in reversed(undo):
            try:
                await compensation.run()
                self._state.compensations_run.append(compensation.step)
            except ActivityError as err:
                # One undo failing must not stop the others; the reason says what is left.
                self._state.failure_reason += f"; {compensation.step} failed: {_reason(err)}"
        await self._record(LedgerStatus.FAILED, "compensation", "completed")

    async def _record(self, status: LedgerStatus, step: str, outcome: str) -> None:
        await self._execute(
            LedgerActivities.record_ledger_status,
            LedgerStatusInput(
                self._saga.order_ledger_id, status.value, step, outcome, self._state.failure_reason
            ),
            self._saga.options.orders_task_queue,
            f"ledger {status.value}" + (f" after {step}" if outcome == "failed" else ""),
            until_done=True,
        )
        self._set_status(status)

    def _set_status(self, status: LedgerStatus) -> None:
        self._state.status = status.value
        pairs: list[SearchAttributeUpdate[Any]] = [
            ORDER_STATUS.value_set(status.value),
            CUSTOMER_ID.value_set(self._saga.customer_id),
            ORDER_TOTAL_CENTS.value_set(self._saga.total_cents),
        ]
        if self._state.failure_reason is not None:
            pairs.append(FAILURE_REASON.value_set(self._state.failure_reason))
        workflow.upsert_search_attributes(pairs)

    async def _execute(
        self, fn: Any, arg: Any, task_queue: str, summary: str, *, until_done: bool
    ) -> Any:
        options = self._saga.options
        initial = timedelta(milliseconds=options.retry_initial_interval_ms)
        retry = RetryPolicy(
            initial_interval=initial,
            backoff_coefficient=options.retry_backoff_coefficient,
            maximum_interval=initial * options.retry_backoff_coefficient**3,
            # Compensations keep trying: giving up would leave stock held or money authorized.
            maximum_attempts=0 if until_done else options.retry_maximum_attempts,
        )
        return await workflow.execute_activity_method(
            fn,
            arg,
            task_queue=task_queue,
            start_to_close_timeout=timedelta(seconds=options.activity_timeout_seconds),
            retry_policy=retry,
            summary=summary,
        )


def _reason(err: ActivityError) -> str:
    """A stable failure reason: the error type (an ErrorCode for business failures) and text."""
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return f"{cause.type or 'ERROR'}: {cause.message}"
    if cause is not None:
        return f"{type(cause).__name__.upper()}: {cause}"
    return f"ACTIVITY_FAILED: {err}"

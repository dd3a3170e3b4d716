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
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

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
LOCAL_STEPS = "local-steps"


@dataclass(frozen=True)
class Compensation:
    """An undo step, registered before the step it undoes runs."""

    step: str
    run: Callable[[], Awaitable[Any]]


# Not sandboxed: under 30 concurrent orders the sandbox's per-activation machinery was the
# largest part of the saga worker's CPU (bench/order_saga.py, docs/order-saga.md). The saga's
# code reads no clock, randomness or environment of its own, and every recorded history in
# tests/replay/order_saga/ is replayed in CI, so a change that breaks determinism still fails.
@workflow.defn(sandboxed=False)
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
        # Histories from before local steps replay as they ran: every step a regular activity.
        self._local = saga.options.local_steps and workflow.patched(LOCAL_STEPS)
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
                local=True,
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
                local=True,
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
                local=True,
            )
        except ActivityError as err:
            await self._compensate(undo, err.activity_type or "unknown", _reason(err))
        except StepFailed as failed:
            await self._compensate(undo, failed.step, failed.reason)
        except asyncio.CancelledError:
            await self._compensate(undo, "saga", "CANCELLED: the workflow was cancelled")
            raise
        state = self._state
        return SagaResult(ledger_id, state.status, order_id, state.failure_reason)

    async def _step(
        self,
        fn: Any,
        arg: Any,
        task_queue: str,
        status: LedgerStatus,
        summary: str,
        *,
        local: bool = False,
    ) -> None:
        if local and self._local:
            await self._execute_local(fn, arg, summary)
        else:
            await self._execute(fn, arg, task_queue, summary, until_done=False)
        self._state.completed_steps.append(fn.__name__)
        self._set_status(status, listed=not self._local or status in _LISTED)

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

    def _set_status(self, status: LedgerStatus, *, listed: bool = True) -> None:
        """The status in the query and the UI's details; in the search attributes if `listed`.

        With local steps, only the statuses a saga waits in (the capture at the PSP) or ends
        in are upserted: the steps between them complete in the same workflow task, where an
        upsert each would cost the server a visibility write no list could ever see.
        """
        self._state.status = status.value
        workflow.set_current_details(
            f"**{status.value}**: " + " -> ".join(self._state.completed_steps or ["started"])
        )
        if not listed:
            return
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
        return await workflow.execute_activity_method(
            fn,
            arg,
            task_queue=task_queue,
            start_to_close_timeout=timedelta(seconds=self._saga.options.activity_timeout_seconds),
            retry_policy=self._retry(until_done=until_done),
            summary=summary,
        )

    async def _execute_local(self, fn: Any, arg: Any, summary: str) -> Any:
        """A short idempotent database step in this worker, under the same retry policy.

        Backoffs up to a minute are waited out inside the workflow task; the 64 s one becomes
        a timer. A worker killed mid-step loses its workflow task, and the next worker runs
        the step again under the same ledger key, which applies it once.
        """
        try:
            return await workflow.execute_local_activity_method(
                fn,
                arg,
                start_to_close_timeout=timedelta(
                    seconds=self._saga.options.activity_timeout_seconds
                ),
                retry_policy=self._retry(until_done=False),
                summary=summary,
            )
        except ActivityError:
            raise
        except FailureError as failure:
            # A local activity's last failure arrives as itself, not inside an ActivityError.
            raise StepFailed(fn.__name__, _describe(failure)) from None

    def _retry(self, *, until_done: bool) -> RetryPolicy:
        options = self._saga.options
        initial = timedelta(milliseconds=options.retry_initial_interval_ms)
        return RetryPolicy(
            initial_interval=initial,
            backoff_coefficient=options.retry_backoff_coefficient,
            maximum_interval=initial * options.retry_backoff_coefficient**3,
            # Compensations keep trying: giving up would leave stock held or money authorized.
            maximum_attempts=0 if until_done else options.retry_maximum_attempts,
        )


_LISTED = {LedgerStatus.INVENTORY_RESERVED, LedgerStatus.CONFIRMED}


class StepFailed(Exception):
    """A local step that failed for good: which one, and why (as `_reason` words it)."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(reason)
        self.step = step
        self.reason = reason


def _reason(err: ActivityError) -> str:
    """A stable failure reason: the error type (an ErrorCode for business failures) and text."""
    if err.cause is not None:
        return _describe(err.cause)
    return f"ACTIVITY_FAILED: {err}"


def _describe(cause: BaseException) -> str:
    if isinstance(cause, ApplicationError):
        return f"{cause.type or 'ERROR'}: {cause.message}"
    return f"{type(cause).__name__.upper()}: {cause}"

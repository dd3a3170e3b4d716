"""Starting the order saga of an accepted order, idempotently by workflow id."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain.checkout.models import AcceptedOrder, LedgerStatus, workflow_id_for
from workflows.checkout.models import ORDER_SAGA_TASK_QUEUE, OrderSagaInput, SagaOptions
from workflows.checkout.order_saga import (
    CUSTOMER_ID,
    ORDER_STATUS,
    ORDER_TOTAL_CENTS,
    OrderSagaWorkflow,
)


class OrderSagaStarter:
    """Starts `order-{order_ledger_id}`; a second start of the same order is a no-op."""

    def __init__(
        self,
        client: Client,
        task_queue: str = ORDER_SAGA_TASK_QUEUE,
        options: SagaOptions | None = None,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._options = options

    async def __call__(self, order: AcceptedOrder) -> None:
        """Start the saga of one accepted order (an outbox row's payload)."""
        saga = OrderSagaInput.of(order, self._options)
        try:
            await self._client.start_workflow(
                OrderSagaWorkflow.run,
                saga,
                id=workflow_id_for(saga.order_ledger_id),
                task_queue=self._task_queue,
                # A finished saga must not run again because a row was published twice.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(ORDER_STATUS, LedgerStatus.AUTHORIZED.value),
                        SearchAttributePair(CUSTOMER_ID, saga.customer_id),
                        SearchAttributePair(ORDER_TOTAL_CENTS, saga.total_cents),
                    ]
                ),
            )
        except WorkflowAlreadyStartedError:
            return

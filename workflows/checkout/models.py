"""Inputs, outputs and state of the order saga and its activities (one dataclass each)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from domain.checkout.models import AcceptedOrder
from domain.orders.models import OrderLine

ORDER_SAGA_TASK_QUEUE = "order-saga"
ORDERS_TASK_QUEUE = "orders"
INVENTORY_TASK_QUEUE = "inventory"
PAYMENTS_TASK_QUEUE = "payments"


@dataclass
class SagaOptions:
    """Where the activities run and how they retry; the defaults are production's."""

    orders_task_queue: str = ORDERS_TASK_QUEUE
    inventory_task_queue: str = INVENTORY_TASK_QUEUE
    payments_task_queue: str = PAYMENTS_TASK_QUEUE
    # The seed's backoff: 1 s, then x4 (4 s, 16 s, 64 s), five attempts in all.
    retry_initial_interval_ms: int = 1000
    retry_backoff_coefficient: float = 4.0
    retry_maximum_attempts: int = 5
    activity_timeout_seconds: float = 30.0
    # The short database steps (create, reserve, confirm) run as local activities of the
    # saga's worker: no task queue round trip and no workflow task of their own. The PSP's
    # capture stays a regular activity on `payments`. False: every step on its context's
    # queue, for a deployment whose saga worker does not host the orders and inventory code.
    local_steps: bool = True


@dataclass(frozen=True)
class OrderSagaInput(AcceptedOrder):
    """The accepted order (the outbox payload, field for field) and how to run its saga."""

    options: SagaOptions = field(default_factory=SagaOptions)

    @staticmethod
    def of(order: AcceptedOrder, options: SagaOptions | None = None) -> OrderSagaInput:
        """The saga input of `order`."""
        accepted = {f.name: getattr(order, f.name) for f in fields(AcceptedOrder)}
        return OrderSagaInput(**accepted, options=options or SagaOptions())


@dataclass
class SagaState:
    """What the `state` query answers: where the saga is and what it has done."""

    status: str
    order_id: str | None = None
    completed_steps: list[str] = field(default_factory=list)
    compensations_run: list[str] = field(default_factory=list)
    failure_reason: str | None = None


@dataclass
class SagaResult:
    """How the saga ended."""

    order_ledger_id: str
    status: str
    order_id: str | None
    failure_reason: str | None


@dataclass
class CreateOrderInput:
    """Create the order of a ledger entry."""

    order_ledger_id: str
    customer_id: str
    items: list[OrderLine]
    currency: str


@dataclass
class OrderStepInput:
    """Confirm or cancel the order of a ledger entry."""

    order_ledger_id: str
    order_id: str


@dataclass
class InventoryInput:
    """Reserve (or release) the stock of an order."""

    order_ledger_id: str
    order_id: str
    items: list[OrderLine]


@dataclass
class PaymentInput:
    """Capture or void the edge's authorization."""

    order_ledger_id: str
    authorization_id: str


@dataclass
class LedgerStatusInput:
    """Move the ledger to COMPENSATING or FAILED, recording the step that caused it."""

    order_ledger_id: str
    status: str
    step: str
    outcome: str
    failure_reason: str | None = None

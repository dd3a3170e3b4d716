"""Workers of the order saga: the workflow's queue and one queue per bounded context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio.worker import Worker

from activities.checkout import LedgerActivities, SagaLedger
from activities.inventory import InventoryActivities
from activities.orders import OrderActivities
from activities.payments import PaymentActivities
from domain.payments.psp import MockPsp
from domain.payments.settings import PaymentsSettings
from saga.workers.resources import WorkerFactory, WorkerResources
from workflows.checkout.models import (
    INVENTORY_TASK_QUEUE,
    ORDER_SAGA_TASK_QUEUE,
    ORDERS_TASK_QUEUE,
    PAYMENTS_TASK_QUEUE,
)
from workflows.checkout.order_saga import OrderSagaWorkflow


def order_saga_worker(
    resources: WorkerResources, task_queue: str = ORDER_SAGA_TASK_QUEUE
) -> Worker:
    """Hosts OrderSagaWorkflow and, for its local steps, the orders and inventory activities.

    The same activities stay on their own queues too (`orders`, `inventory`): compensations
    and sagas started with `local_steps=False` run there.
    """
    ledger = SagaLedger(resources.db, resources.redis)
    return Worker(
        resources.client,
        task_queue=task_queue,
        workflows=[OrderSagaWorkflow],
        activities=[*orders_activities(ledger), *inventory_activities(ledger)],
    )


def orders_activities(ledger: SagaLedger) -> list[Callable[..., Any]]:
    """The orders activities and the ledger's own status moves."""
    orders = OrderActivities(ledger)
    return [
        orders.create_order,
        orders.confirm_order,
        orders.cancel_order,
        LedgerActivities(ledger).record_ledger_status,
    ]


def inventory_activities(ledger: SagaLedger) -> list[Callable[..., Any]]:
    """The inventory activities."""
    inventory = InventoryActivities(ledger)
    return [inventory.reserve_inventory, inventory.release_inventory]


def payments_activities(psp: MockPsp, ledger: SagaLedger) -> list[Callable[..., Any]]:
    """The payments activities over a PSP."""
    payments = PaymentActivities(psp, ledger)
    return [payments.capture_payment, payments.void_payment]


def orders_worker(resources: WorkerResources) -> Worker:
    """Hosts the orders activities on `orders`."""
    ledger = SagaLedger(resources.db, resources.redis)
    return Worker(
        resources.client, task_queue=ORDERS_TASK_QUEUE, activities=orders_activities(ledger)
    )


def inventory_worker(resources: WorkerResources) -> Worker:
    """Hosts the inventory activities on `inventory`."""
    ledger = SagaLedger(resources.db, resources.redis)
    return Worker(
        resources.client, task_queue=INVENTORY_TASK_QUEUE, activities=inventory_activities(ledger)
    )


def payments_worker(resources: WorkerResources) -> Worker:
    """Hosts the payments activities on `payments`, over the mock PSP (MOCK_LATENCY_MS...)."""
    settings = PaymentsSettings()
    psp = MockPsp(resources.db, settings.mock_latency_ms, settings.mock_failure_rate)
    ledger = SagaLedger(resources.db, resources.redis)
    return Worker(
        resources.client,
        task_queue=PAYMENTS_TASK_QUEUE,
        activities=payments_activities(psp, ledger),
    )


ORDER_SAGA_WORKERS: dict[str, WorkerFactory] = {
    ORDER_SAGA_TASK_QUEUE: order_saga_worker,
    ORDERS_TASK_QUEUE: orders_worker,
    INVENTORY_TASK_QUEUE: inventory_worker,
    PAYMENTS_TASK_QUEUE: payments_worker,
}

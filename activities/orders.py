"""Orders activities: create, confirm and cancel the order of a ledger entry."""

from __future__ import annotations

import contextlib
import uuid

from temporalio import activity

from activities.checkout import SagaLedger
from domain.checkout.models import LedgerStatus
from domain.errors import NotFound
from domain.orders.models import OrderStatus, order_id_for
from domain.orders.repository import OrderRepository
from workflows.checkout.models import CreateOrderInput, OrderStepInput


class OrderActivities:
    """Each method is one side effect on the orders tables, recorded on the ledger."""

    def __init__(self, ledger: SagaLedger) -> None:
        self._ledger = ledger

    @activity.defn
    async def create_order(self, request: CreateOrderInput) -> str:
        """Create the order (once per ledger entry); returns its id."""
        ledger_id = uuid.UUID(request.order_ledger_id)
        async with self._ledger.step(
            request.order_ledger_id,
            "create_order",
            status=LedgerStatus.ORDER_CREATED,
            order_id=order_id_for(ledger_id),
        ) as conn:
            order, _ = await OrderRepository(conn).create_from_ledger(
                ledger_id, request.customer_id, request.items, request.currency
            )
        return str(order.order_id)

    @activity.defn
    async def confirm_order(self, request: OrderStepInput) -> None:
        """Confirm the order: the saga's last step."""
        async with self._ledger.step(
            request.order_ledger_id, "confirm_order", status=LedgerStatus.CONFIRMED
        ) as conn:
            await OrderRepository(conn).move_to(uuid.UUID(request.order_id), OrderStatus.CONFIRMED)

    @activity.defn
    async def cancel_order(self, request: OrderStepInput) -> None:
        """Compensation: cancel the order; an order that was never created needs nothing."""
        async with self._ledger.step(
            request.order_ledger_id, "cancel_order", outcome="compensated"
        ) as conn:
            # Still recorded: the compensation ran, there was just nothing to undo.
            with contextlib.suppress(NotFound):
                await OrderRepository(conn).move_to(
                    uuid.UUID(request.order_id), OrderStatus.CANCELLED
                )

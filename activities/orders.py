"""Orders activities: create, confirm and cancel the order of a ledger entry."""

from __future__ import annotations

import uuid

from temporalio import activity

from activities.checkout import SagaLedger
from domain.checkout.models import LedgerStatus
from domain.errors import NotFound
from domain.orders.models import OrderLine, OrderStatus, order_id_for
from domain.orders.repository import OrderRepository
from infra.db.connection import Connection
from workflows.checkout.models import CreateOrderInput, OrderStepInput


class OrderActivities:
    """Each method is one side effect on the orders tables, recorded on the ledger."""

    def __init__(self, ledger: SagaLedger) -> None:
        self._ledger = ledger

    @activity.defn
    async def create_order(self, request: CreateOrderInput) -> str:
        """Create the order (once per ledger entry); returns its id."""
        ledger_id = uuid.UUID(request.order_ledger_id)
        lines = [OrderLine(i.product_id, i.quantity, i.unit_price_cents) for i in request.items]

        async def work(conn: Connection) -> str:
            order, _ = await OrderRepository(conn).create_from_ledger(
                ledger_id, request.customer_id, lines, request.currency
            )
            return str(order.order_id)

        return await self._ledger.run_step(
            request.order_ledger_id,
            "create_order",
            work,
            status=LedgerStatus.ORDER_CREATED,
            order_id=order_id_for(ledger_id),
        )

    @activity.defn
    async def confirm_order(self, request: OrderStepInput) -> None:
        """Confirm the order: the saga's last step."""

        async def work(conn: Connection) -> None:
            await OrderRepository(conn).move_to(uuid.UUID(request.order_id), OrderStatus.CONFIRMED)

        await self._ledger.run_step(
            request.order_ledger_id, "confirm_order", work, status=LedgerStatus.CONFIRMED
        )

    @activity.defn
    async def cancel_order(self, request: OrderStepInput) -> None:
        """Compensation: cancel the order; an order that was never created needs nothing."""

        async def work(conn: Connection) -> None:
            try:
                await OrderRepository(conn).move_to(
                    uuid.UUID(request.order_id), OrderStatus.CANCELLED
                )
            except NotFound:
                return

        await self._ledger.run_step(
            request.order_ledger_id, "cancel_order", work, outcome="compensated"
        )

"""Inventory activities: reserve the stock of an order, release it as compensation."""

from __future__ import annotations

from temporalio import activity

from activities.checkout import SagaLedger
from domain.checkout.models import LedgerStatus
from domain.inventory.models import StockLine
from domain.inventory.repository import InventoryRepository
from workflows.checkout.models import InventoryInput


class InventoryActivities:
    """Each method is one side effect on the inventory tables, recorded on the ledger."""

    def __init__(self, ledger: SagaLedger) -> None:
        self._ledger = ledger

    @activity.defn
    async def reserve_inventory(self, request: InventoryInput) -> None:
        """Reserve every line or fail with OUT_OF_STOCK; once per order."""
        lines = [StockLine(item.product_id, item.quantity) for item in request.items]
        async with self._ledger.step(
            request.order_ledger_id, "reserve_inventory", status=LedgerStatus.INVENTORY_RESERVED
        ) as conn:
            await InventoryRepository(conn).reserve(request.order_id, lines)

    @activity.defn
    async def release_inventory(self, request: InventoryInput) -> None:
        """Compensation: give back what the order holds (nothing if it holds nothing)."""
        async with self._ledger.step(
            request.order_ledger_id, "release_inventory", outcome="compensated"
        ) as conn:
            await InventoryRepository(conn).release(request.order_id)

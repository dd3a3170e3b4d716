"""Payments activities: capture the edge's authorization, void it as compensation."""

from __future__ import annotations

from temporalio import activity

from activities.checkout import SagaLedger
from domain.checkout.models import LedgerStatus
from domain.payments.psp import MockPsp
from workflows.checkout.models import PaymentInput


class PaymentActivities:
    """Calls to the PSP, each recorded on the ledger once it answered."""

    def __init__(self, psp: MockPsp, ledger: SagaLedger) -> None:
        self._psp = psp
        self._ledger = ledger

    @activity.defn
    async def capture_payment(self, request: PaymentInput) -> None:
        """Capture; declines are final, PSP outages are retried with backoff."""
        async with self._ledger.remote_step(
            request.order_ledger_id, "capture_payment", status=LedgerStatus.PAYMENT_CAPTURED
        ):
            await self._psp.capture(request.authorization_id)

    @activity.defn
    async def void_payment(self, request: PaymentInput) -> None:
        """Compensation: void the authorization (refund it if it was captured)."""
        async with self._ledger.remote_step(
            request.order_ledger_id, "void_payment", outcome="compensated"
        ):
            await self._psp.void(request.authorization_id)

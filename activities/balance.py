"""Activities of the balance workflows: sweep expired reservations, verify ledger chains."""

from __future__ import annotations

from temporalio import activity

from domain.balance.book import BalanceBook
from domain.balance.stragglers import deliver_stragglers
from infra.faults import fault_point
from workflows.balance.models import (
    CorruptEntry,
    ExpireDueInput,
    ExpireDueOutput,
    VerifyPageInput,
    VerifyPageOutput,
)


class BalanceActivities:
    """Thin adapters over one BalanceBook."""

    def __init__(self, book: BalanceBook) -> None:
        self.book = book

    @activity.defn
    async def release_expired_reservations(self, request: ExpireDueInput) -> ExpireDueOutput:
        """Expire the reservations due at the workflow's time; deliver credits left owed."""
        batch = await self.book.expiry.expire_due(request.limit, now_ms=request.now_ms)
        if batch.expired:
            fault_point("after_effect:release_expired_reservations")
            activity.logger.info("expired %d reservations", len(batch.expired))
        delivered = await deliver_stragglers(self.book.scripts)
        if delivered:
            activity.logger.info("delivered %d credits owed between slots", delivered)
        return ExpireDueOutput(len(batch.expired), batch.remaining, delivered)

    @activity.defn
    async def verify_ledger_page(self, request: VerifyPageInput) -> VerifyPageOutput:
        """Verify the chains of one page of accounts; broken ones are logged and counted."""
        next_cursor, ids = await self.book.ledger.account_page(request.cursor, request.page_size)
        entries = 0
        corrupt: list[CorruptEntry] = []
        for account_id in ids:
            activity.heartbeat(account_id)
            result = await self.book.ledger.verify(account_id, incremental=request.incremental)
            entries += result.entries_checked
            if not result.valid:
                corrupt.append(CorruptEntry(account_id, result.first_bad_seq, result.reason))
        return VerifyPageOutput(next_cursor, len(ids), entries, corrupt)

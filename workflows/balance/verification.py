"""LedgerVerificationWorkflow: run by a Schedule, verifies every account's chain incrementally."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.balance import BalanceActivities
    from workflows.balance.models import (
        BALANCE_RETRY,
        CORRUPT_LEDGER_ENTRY,
        LEDGER_INTEGRITY,
        VerificationInput,
        VerificationReport,
        VerifyPageInput,
    )


@workflow.defn
class LedgerVerificationWorkflow:
    """Walks the accounts page by page; a broken chain shows in LedgerIntegrity=CORRUPT."""

    def __init__(self) -> None:
        self._report = VerificationReport(0, 0)

    @workflow.run
    async def run(self, params: VerificationInput) -> VerificationReport:
        """Verify every page; set the search attributes a person filters on in the UI."""
        workflow.upsert_search_attributes([LEDGER_INTEGRITY.value_set("VERIFYING")])
        cursor, first = 0, True
        while first or cursor != 0:
            first = False
            page = await workflow.execute_activity_method(
                BalanceActivities.verify_ledger_page,
                VerifyPageInput(cursor, params.page_size, params.incremental),
                start_to_close_timeout=timedelta(minutes=5),
                heartbeat_timeout=timedelta(seconds=60),
                retry_policy=BALANCE_RETRY,
                summary=f"verify accounts from cursor {cursor}",
            )
            self._report.accounts += page.accounts
            self._report.entries += page.entries
            self._report.corrupt.extend(page.corrupt)
            cursor = page.next_cursor
        updates = [LEDGER_INTEGRITY.value_set(self._report.integrity)]
        if self._report.corrupt:
            first_bad = self._report.corrupt[0]
            updates.append(
                CORRUPT_LEDGER_ENTRY.value_set(f"{first_bad.account_id}#{first_bad.seq}")
            )
            workflow.logger.error(
                "ledger corruption in %d account(s); first: %s entry %d (%s)",
                len(self._report.corrupt),
                first_bad.account_id,
                first_bad.seq,
                first_bad.reason,
            )
        workflow.upsert_search_attributes(updates)
        return self._report

    @workflow.query
    def progress(self) -> VerificationReport:
        """Accounts and entries verified so far."""
        return self._report

"""Inputs and outputs of the balance workflows and activities (one dataclass each)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from temporalio.common import RetryPolicy, SearchAttributeKey

BALANCE_TASK_QUEUE = "balance"
EXPIRY_WORKFLOW_ID = "balance-reservation-expiry"
VERIFICATION_SCHEDULE_ID = "balance-ledger-verification"

LEDGER_INTEGRITY = SearchAttributeKey.for_keyword("LedgerIntegrity")
CORRUPT_LEDGER_ENTRY = SearchAttributeKey.for_keyword("CorruptLedgerEntry")

# The seed's policy: 1 s, 4 s, 16 s, 64 s, then give up.
BALANCE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=4.0, maximum_attempts=5
)


@dataclass
class ExpiryInput:
    """How the sweeper runs; `total_expired` carries the count across continue-as-new."""

    interval_seconds: int = 5
    sweeps_per_run: int = 500
    batch_size: int = 500
    total_expired: int = 0


@dataclass
class ExpiryStatus:
    """What the sweeper has done so far (its query)."""

    sweeps: int
    expired_this_run: int
    total_expired: int


@dataclass
class ExpireDueInput:
    """Expire what is due at `now_ms`, at most `limit`."""

    now_ms: int
    limit: int = 500


@dataclass
class ExpireDueOutput:
    """How many were expired, how many due ones remain, and how many owed credits were
    delivered (left between two slots by a call that failed midway)."""

    expired: int
    remaining: int
    delivered: int = 0


@dataclass
class VerificationInput:
    """How a verification run walks the accounts."""

    page_size: int = 200
    incremental: bool = True


@dataclass
class VerifyPageInput:
    """One page of accounts from a set-scan cursor."""

    cursor: int
    page_size: int = 200
    incremental: bool = True


@dataclass
class CorruptEntry:
    """The first bad entry of a broken chain."""

    account_id: str
    seq: int
    reason: str


@dataclass
class VerifyPageOutput:
    """A page's findings and the cursor of the next page (0 when done)."""

    next_cursor: int
    accounts: int
    entries: int
    corrupt: list[CorruptEntry] = field(default_factory=list)


@dataclass
class VerificationReport:
    """A run's findings."""

    accounts: int
    entries: int
    corrupt: list[CorruptEntry] = field(default_factory=list)

    @property
    def integrity(self) -> str:
        """OK or CORRUPT, as shown in the LedgerIntegrity search attribute."""
        return "CORRUPT" if self.corrupt else "OK"

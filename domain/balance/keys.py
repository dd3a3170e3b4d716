"""Redis keys of the balance service; the braces are literal hash tags, as in the seed."""

from __future__ import annotations

ACCOUNT_IDS = "balance:accounts:ids"
RESERVATION_EXPIRY = "balance:reservations:expiry"
ACTIVE_POTS = "balance:pots:active"
ECONOMY = "balance:economy"


def account(account_id: str) -> str:
    """Hash: balance, reserved, version, created_at_ms, updated_at_ms."""
    return f"balance:accounts:{{{account_id}}}"


def transaction(transaction_id: str) -> str:
    """String: the transaction as JSON."""
    return f"balance:transactions:{{{transaction_id}}}"


def account_transactions(account_id: str) -> str:
    """List: the account's transaction ids, oldest first."""
    return f"balance:transactions:by-account:{{{account_id}}}"


def reservation(reservation_id: str) -> str:
    """String: the reservation as JSON."""
    return f"balance:reservations:{{{reservation_id}}}"


def account_reservations(account_id: str) -> str:
    """Set: the account's PENDING reservation ids."""
    return f"balance:reservations:by-account:{{{account_id}}}"


def ledger(account_id: str) -> str:
    """List: the account's ledger entries, seq 1 first."""
    return f"balance:ledger:{{{account_id}}}"


def ledger_head(account_id: str) -> str:
    """String: the checksum of the account's newest ledger entry."""
    return f"balance:ledger:latest-checksum:{{{account_id}}}"


def ledger_checkpoint(account_id: str) -> str:
    """String: how far verification has checked the account's chain (see ChainState)."""
    return f"balance:ledger:checkpoint:{{{account_id}}}"


def idempotency(key: str) -> str:
    """String: request fingerprint, newline, the answer as JSON; expires after 24 h."""
    return f"balance:transactions:idempotency:{{{key}}}"


def pot(table_id: str, hand_id: str) -> str:
    """String: the pot of one hand as JSON."""
    return f"balance:pots:{{{table_id}}}:{{{hand_id}}}"

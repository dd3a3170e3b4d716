"""Redis keys of the balance service, and the KEYS of each script: the one place that names them.

The braces are literal hash tags, as in the seed. No Lua script builds a key name: every key a
script touches comes in its KEYS, laid out by the `for_*` functions below (each script's header
in lua/ lists the same positions) and framed by `frame` (lua/lib.lua reads the frame).
"""

from __future__ import annotations

from collections.abc import Sequence

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


def account_group(account_id: str) -> list[str]:
    """The five keys a script changes one account through, in lua/lib.lua's `account_keys` order."""
    return [
        account(account_id),
        account_transactions(account_id),
        ledger(account_id),
        ledger_head(account_id),
        account_reservations(account_id),
    ]


def account_groups(account_ids: Sequence[str]) -> list[str]:
    """The key groups of `account_ids`, one after another."""
    return [key for account_id in account_ids for key in account_group(account_id)]


def frame(
    idempotency_key: str, own: Sequence[str], transaction_base: str, transactions: int
) -> tuple[list[str], int]:
    """A call's whole KEYS, and the 1-based position of its tail (lua/lib.lua).

    First the idempotency record (when the call has a key), then the operation's own keys, then
    the tail: the economy hash and one key per transaction the script may write, whose ids are
    `{transaction_base}-1`, `-2`, ... (as lib.lua's `record` numbers them).
    """
    head = [idempotency(idempotency_key)] if idempotency_key else []
    tail = (
        [ECONOMY, *(transaction(f"{transaction_base}-{n}") for n in range(1, transactions + 1))]
        if transactions
        else []
    )
    return [*head, *own, *tail], len(head) + len(own) + 1


def for_ensure_account(account_id: str) -> list[str]:
    """ensure_account: the account's group, the account ids."""
    return [*account_group(account_id), ACCOUNT_IDS]


def for_credit(account_id: str) -> list[str]:
    """credit: the account's group, the account ids (a first credit opens it)."""
    return [*account_group(account_id), ACCOUNT_IDS]


def for_debit(account_id: str) -> list[str]:
    """debit: the account's group."""
    return account_group(account_id)


def for_reserve(account_id: str, reservation_id: str) -> list[str]:
    """reserve: the account's group, the reservation, the expiry index."""
    return [*account_group(account_id), reservation(reservation_id), RESERVATION_EXPIRY]


def for_commit(reservation_id: str, accounts: Sequence[str]) -> list[str]:
    """commit_reservation: the reservation, the expiry index, the account ids, the groups."""
    return [reservation(reservation_id), RESERVATION_EXPIRY, ACCOUNT_IDS, *account_groups(accounts)]


def for_release(reservation_id: str, accounts: Sequence[str]) -> list[str]:
    """release_reservation: the reservation, the expiry index, the holder's group (if known)."""
    return [reservation(reservation_id), RESERVATION_EXPIRY, *account_groups(accounts)]


def for_expiry(reservation_ids: Sequence[str], holders: Sequence[str]) -> list[str]:
    """expire_reservations: the expiry index, each due reservation, each holder's group."""
    return [
        RESERVATION_EXPIRY,
        *(reservation(r) for r in reservation_ids),
        *account_groups(holders),
    ]


def for_create_pot(table_id: str, hand_id: str) -> list[str]:
    """create_pot: the pot, the open pots."""
    return [pot(table_id, hand_id), ACTIVE_POTS]


def for_contribution(
    table_id: str, hand_id: str, reservation_id: str, accounts: Sequence[str]
) -> list[str]:
    """record_contribution: the pot, the open pots, [the reservation, the expiry index], groups."""
    held = [reservation(reservation_id), RESERVATION_EXPIRY] if reservation_id else []
    return [pot(table_id, hand_id), ACTIVE_POTS, *held, *account_groups(accounts)]


def for_settle(table_id: str, hand_id: str, accounts: Sequence[str]) -> list[str]:
    """settle_pot: the pot, the open pots, the account ids (for the house), `accounts`' groups."""
    return [pot(table_id, hand_id), ACTIVE_POTS, ACCOUNT_IDS, *account_groups(accounts)]


def for_cancel(table_id: str, hand_id: str, contributors: Sequence[str]) -> list[str]:
    """cancel_pot: the pot, the open pots, each contributor's group."""
    return [pot(table_id, hand_id), ACTIVE_POTS, *account_groups(contributors)]

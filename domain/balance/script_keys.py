"""The KEYS of each balance script, in the order the script reads them.

Each `for_*` function lays out one script's own keys (each script's header in lua/ lists the
same positions); `frame` puts the call's idempotency record before them and the slot's
economy, outbox and transaction keys after them (lua/lib.lua reads the frame). Every key of a
call is in one hash slot: the names come from keys.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.balance.keys import (
    account,
    account_ids,
    account_reservations,
    account_transactions,
    active_pots,
    economy,
    home,
    idempotency,
    ledger,
    ledger_head,
    outbox,
    pot,
    reservation,
    reservation_expiry,
    slot_tag,
    transaction,
)


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
    tag: str,
    idempotency_key: str,
    own: Sequence[str],
    transaction_base: str,
    transactions: int,
) -> tuple[list[str], int]:
    """A call in home `tag`: its whole KEYS, and the 1-based position of its tail (lua/lib.lua).

    First the idempotency record (when the call has a key), then the operation's own keys, then
    the tail: the slot's economy hash, its outbox, and one key per transaction the script may
    write, whose ids are `{transaction_base}-1`, `-2`, ... (as lib.lua's `record` numbers them).
    """
    head = [idempotency(tag, idempotency_key)] if idempotency_key else []
    tail = [
        economy(tag),
        outbox(tag),
        *(transaction(tag, f"{transaction_base}-{n}") for n in range(1, transactions + 1)),
    ]
    return [*head, *own, *tail], len(head) + len(own) + 1


def for_ensure_account(account_id: str) -> list[str]:
    """ensure_account: the account's group, the slot's account ids."""
    return [*account_group(account_id), account_ids(home(account_id))]


def for_credit(account_id: str) -> list[str]:
    """credit: the account's group, the slot's account ids (a first credit opens it)."""
    return [*account_group(account_id), account_ids(home(account_id))]


def for_debit(account_id: str) -> list[str]:
    """debit: the account's group."""
    return account_group(account_id)


def for_reserve(account_id: str, reservation_id: str) -> list[str]:
    """reserve: the account's group, the reservation, the slot's expiry index."""
    tag = home(account_id)
    return [
        *account_group(account_id),
        reservation(account_id, reservation_id),
        reservation_expiry(tag),
    ]


def for_commit(holder: str, reservation_id: str, accounts: Sequence[str]) -> list[str]:
    """commit_reservation: the reservation, the expiry index, the account ids, the groups."""
    tag = home(holder)
    return [
        reservation(holder, reservation_id),
        reservation_expiry(tag),
        account_ids(tag),
        *account_groups(accounts),
    ]


def for_release(holder: str, reservation_id: str) -> list[str]:
    """release_reservation: the reservation, the expiry index, the holder's group."""
    return [
        reservation(holder, reservation_id),
        reservation_expiry(home(holder)),
        *account_group(holder),
    ]


def for_expiry(slot: int, due: Sequence[tuple[str, str]], holders: Sequence[str]) -> list[str]:
    """expire_reservations: the slot's expiry index, each due (holder, id), the holders' groups."""
    return [
        reservation_expiry(slot_tag(slot)),
        *(reservation(holder, r) for holder, r in due),
        *account_groups(holders),
    ]


def for_create_pot(table_id: str, hand_id: str) -> list[str]:
    """create_pot: the pot, the slot's open pots."""
    return [pot(table_id, hand_id), active_pots(table_id)]


def for_contribution(
    table_id: str, hand_id: str, holder: str, reservation_id: str, accounts: Sequence[str]
) -> list[str]:
    """record_contribution: the pot, the open pots, [the reservation, the expiry], groups."""
    held = (
        [reservation(holder, reservation_id), reservation_expiry(table_id)]
        if reservation_id
        else []
    )
    return [pot(table_id, hand_id), active_pots(table_id), *held, *account_groups(accounts)]


def for_contribution_out(account_id: str, reservation_id: str) -> list[str]:
    """contribute_out (a pot in another slot): [the reservation, the expiry], the group."""
    held = (
        [reservation(account_id, reservation_id), reservation_expiry(home(account_id))]
        if reservation_id
        else []
    )
    return [*held, *account_group(account_id)]


def for_settle(table_id: str, hand_id: str, accounts: Sequence[str]) -> list[str]:
    """settle_pot: the pot, the open pots, the account ids, the groups of `accounts` at home."""
    return [
        pot(table_id, hand_id),
        active_pots(table_id),
        account_ids(table_id),
        *account_groups(accounts),
    ]


def for_cancel(table_id: str, hand_id: str, contributors: Sequence[str]) -> list[str]:
    """cancel_pot: the pot, the open pots, the groups of the contributors at home."""
    return [pot(table_id, hand_id), active_pots(table_id), *account_groups(contributors)]


def for_delivery(account_id: str) -> list[str]:
    """deliver_credit to an account: the account's group, the slot's account ids.

    The delivery's mark is its idempotency record (slots.py's `delivery_key`), framed before.
    """
    return [*account_group(account_id), account_ids(home(account_id))]


def for_pot_delivery(table_id: str, hand_id: str) -> list[str]:
    """deliver_contribution to a pot: the pot, the slot's open pots (the mark framed before)."""
    return [pot(table_id, hand_id), active_pots(table_id)]

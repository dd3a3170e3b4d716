"""Stored key names stay the seed's; a call's KEYS are framed as lua/lib.lua reads them."""

from __future__ import annotations

from domain.balance import keys


def test_key_names_are_the_seeds() -> None:
    # Existing data lives under these names: they must never change.
    assert keys.account_group("ann") == [
        "balance:accounts:{ann}",
        "balance:transactions:by-account:{ann}",
        "balance:ledger:{ann}",
        "balance:ledger:latest-checksum:{ann}",
        "balance:reservations:by-account:{ann}",
    ]
    assert keys.transaction("t-1") == "balance:transactions:{t-1}"
    assert keys.reservation("r") == "balance:reservations:{r}"
    assert keys.idempotency("buy-in:t:u:1") == "balance:transactions:idempotency:{buy-in:t:u:1}"
    assert keys.pot("t", "h") == "balance:pots:{t}:{h}"
    assert keys.ledger_checkpoint("ann") == "balance:ledger:checkpoint:{ann}"
    assert (keys.ACCOUNT_IDS, keys.RESERVATION_EXPIRY, keys.ACTIVE_POTS, keys.ECONOMY) == (
        "balance:accounts:ids",
        "balance:reservations:expiry",
        "balance:pots:active",
        "balance:economy",
    )


def test_a_call_is_framed_by_its_idempotency_record_and_its_tail() -> None:
    framed, tail = keys.frame("k", ["own"], "base", 2)
    assert framed == [
        "balance:transactions:idempotency:{k}",
        "own",
        "balance:economy",
        "balance:transactions:{base-1}",
        "balance:transactions:{base-2}",
    ]
    assert framed[tail - 1] == keys.ECONOMY
    assert keys.frame("", ["a", "b"], "base", 0) == (["a", "b"], 3)


def test_layouts_carry_each_accounts_group() -> None:
    assert keys.for_commit("r", ["ann", "seat"]) == [
        "balance:reservations:{r}",
        keys.RESERVATION_EXPIRY,
        keys.ACCOUNT_IDS,
        *keys.account_group("ann"),
        *keys.account_group("seat"),
    ]
    assert keys.for_contribution("t", "h", "", ["ann"]) == [
        "balance:pots:{t}:{h}",
        keys.ACTIVE_POTS,
        *keys.account_group("ann"),
    ]
    assert keys.for_expiry(["r1", "r2"], ["ann"])[:3] == [
        keys.RESERVATION_EXPIRY,
        "balance:reservations:{r1}",
        "balance:reservations:{r2}",
    ]

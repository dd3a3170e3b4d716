"""Stored key names keep the seed's where they can, and every call's KEYS share one hash slot."""

from __future__ import annotations

from redis.crc import key_slot

from domain.balance import keys, script_keys


def _slots(names: list[str]) -> set[int]:
    return {key_slot(name.encode()) for name in names}


def test_an_accounts_own_keys_keep_the_seeds_names() -> None:
    # Existing data lives under these names: they must never change.
    assert script_keys.account_group("ann") == [
        "balance:accounts:{ann}",
        "balance:transactions:by-account:{ann}",
        "balance:ledger:{ann}",
        "balance:ledger:latest-checksum:{ann}",
        "balance:reservations:by-account:{ann}",
    ]
    assert keys.ledger_checkpoint("ann") == "balance:ledger:checkpoint:{ann}"
    assert keys.pot("t", "h") == "balance:pots:{t}:{h}"


def test_a_seat_account_lives_with_its_table() -> None:
    seat = "seat-t0123456789-ann"
    assert keys.home(seat) == "t0123456789"
    assert keys.account(seat) == "balance:accounts:{t0123456789}:seat-t0123456789-ann"
    assert _slots([*script_keys.account_group(seat), keys.pot("t0123456789", "h1")]) == {
        keys.slot_of("t0123456789")
    }
    # Anything else is its own home, seat-like or not.
    assert [keys.home(a) for a in ("seat-", "seat-t1", "seat--x", "house")] == [
        "seat-",
        "seat-t1",
        "seat--x",
        "house",
    ]


def test_slot_tags_are_pinned_and_hash_to_their_slot() -> None:
    # Stored per-slot indexes carry these tags: the rule that picks them must never change.
    assert [keys.slot_tag(s) for s in (0, 1, 16383)] == ["1bz", "emj", "hia"]
    for slot in (0, 1, 777, 8191, 16383):
        assert key_slot(keys.slot_tag(slot).encode()) == slot
    assert keys.economy("ann") == f"balance:economy:{{{keys.slot_tag(keys.slot_of('ann'))}}}"
    assert keys.slot_keys(keys.slot_of("ann"))[0] == keys.account_ids("ann")


def test_a_call_is_framed_by_its_idempotency_record_and_its_tail() -> None:
    framed, tail = script_keys.frame("ann", "k", ["own"], "base", 2)
    assert framed == [
        "balance:idempotency:{ann}:k",
        "own",
        keys.economy("ann"),
        keys.outbox("ann"),
        keys.transaction("ann", "base-1"),
        keys.transaction("ann", "base-2"),
    ]
    assert framed[tail - 1] == keys.economy("ann")
    assert script_keys.frame("ann", "", ["a", "b"], "base", 0) == (
        ["a", "b", keys.economy("ann"), keys.outbox("ann")],
        3,
    )


def test_every_layout_stays_in_one_slot() -> None:
    seat = "seat-t1-ann"
    layouts = [
        script_keys.frame("ann", "k", script_keys.for_credit("ann"), "b", 1)[0],
        script_keys.frame("ann", "k", script_keys.for_reserve("ann", "r"), "b", 1)[0],
        script_keys.frame("ann", "k", script_keys.for_commit("ann", "r", ["ann"]), "b", 1)[0],
        script_keys.frame("ann", "k", script_keys.for_release("ann", "r"), "b", 1)[0],
        script_keys.frame(
            "t1", "k", script_keys.for_contribution("t1", "h", seat, "r", [seat]), "b", 1
        )[0],
        script_keys.frame("ann", "k", script_keys.for_contribution_out("ann", "r"), "b", 1)[0],
        script_keys.frame("t1", "k", script_keys.for_settle("t1", "h", [seat]), "b", 1)[0],
        script_keys.frame("t1", "k", script_keys.for_cancel("t1", "h", [seat]), "b", 1)[0],
        script_keys.frame("ann", "d", script_keys.for_delivery("ann"), "b", 1)[0],
        script_keys.frame("t1", "d", script_keys.for_pot_delivery("t1", "h"), "b", 0)[0],
    ]
    slot = keys.slot_of("ann")
    tag = keys.slot_tag(slot)
    layouts.append(
        script_keys.frame(tag, "", script_keys.for_expiry(slot, [("ann", "r1")], ["ann"]), "b", 1)[
            0
        ]
    )
    for layout in layouts:
        assert len(_slots(layout)) == 1, layout

"""Ledger entries the service computes ahead: used when they match, harmless when they do not.

The script takes the service's checksum only for the very line it builds itself; anything
else (a head another instance moved, a refused change in flight) falls back to SHA-256 in
Lua. Either way the chain verifies and holds what the script alone would have written.
"""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from domain.balance.chain_hints import HINTED_ENTRIES
from domain.balance.commands import Credit, Debit, Reserve
from domain.errors import DomainError
from tests.balance_support import (
    both_stores,  # noqa: F401  (each test on both stores)
    make_book,
)


def _counted() -> tuple[float, float]:
    return (
        HINTED_ENTRIES.labels("yes")._value.get(),
        HINTED_ENTRIES.labels("no")._value.get(),
    )


def _since(before: tuple[float, float]) -> tuple[int, int]:
    after = _counted()
    return int(after[0] - before[0]), int(after[1] - before[1])


async def test_an_account_s_next_entries_are_computed_ahead_and_used(
    redis: aioredis.Redis,
) -> None:
    book = make_book(redis)
    before = _counted()
    await book.accounts.credit(Credit(account_id="hana", amount=500, idempotency_key="c1"))
    assert _since(before) == (0, 0)  # no head known yet: hashed in Lua, head learned
    await book.accounts.credit(Credit(account_id="hana", amount=70, idempotency_key="c2"))
    await book.accounts.debit(Debit(account_id="hana", amount=20, idempotency_key="d1"))
    await book.reservations.reserve(
        Reserve(account_id="hana", amount=100, ttl_seconds=60, idempotency_key="r1")
    )
    assert _since(before) == (3, 0)
    verified = await book.ledger.verify("hana")
    assert (verified.valid, verified.entries_checked) == (True, 4)
    balance = await book.accounts.get_balance("hana")
    assert (balance.balance, balance.reserved) == (550, 100)


async def test_concurrent_changes_to_one_account_chain_on_the_foreseen_heads(
    redis: aioredis.Redis,
) -> None:
    book = make_book(redis)
    await book.accounts.credit(Credit(account_id="ivo", amount=1, idempotency_key="open"))
    before = _counted()
    await asyncio.gather(
        *(
            book.accounts.credit(Credit(account_id="ivo", amount=1, idempotency_key=f"c{n}"))
            for n in range(40)
        )
    )
    used, missed = _since(before)
    assert used + missed == 40
    assert used >= 30, (used, missed)  # pipelined in one or two round trips, in order
    verified = await book.ledger.verify("ivo")
    assert (verified.valid, verified.entries_checked) == (True, 41)


async def test_a_head_moved_by_another_instance_falls_back_to_lua(
    redis: aioredis.Redis,
) -> None:
    one, other = make_book(redis), make_book(redis)
    await one.accounts.credit(Credit(account_id="jun", amount=100, idempotency_key="a"))
    await other.accounts.credit(Credit(account_id="jun", amount=100, idempotency_key="b"))
    before = _counted()
    # `one` foresees from the head it saw, which `other` has moved on: not used.
    await one.accounts.credit(Credit(account_id="jun", amount=100, idempotency_key="c"))
    assert _since(before) == (0, 1)
    # Its answer told it the real head: the next one is used again.
    await one.accounts.credit(Credit(account_id="jun", amount=100, idempotency_key="d"))
    assert _since(before) == (1, 1)
    verified = await one.ledger.verify("jun")
    assert (verified.valid, verified.entries_checked) == (True, 4)
    assert (await one.accounts.get_balance("jun")).balance == 400


async def test_a_refused_change_in_flight_does_not_spoil_the_next_ones(
    redis: aioredis.Redis,
) -> None:
    book = make_book(redis)
    await book.accounts.credit(Credit(account_id="kai", amount=50, idempotency_key="open"))
    outcomes = await asyncio.gather(
        book.accounts.debit(Debit(account_id="kai", amount=80, idempotency_key="too-much")),
        book.accounts.credit(Credit(account_id="kai", amount=5, idempotency_key="after")),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], DomainError)
    assert outcomes[0].code.value == "INSUFFICIENT_FUNDS"
    before = _counted()
    await book.accounts.credit(Credit(account_id="kai", amount=5, idempotency_key="later"))
    assert _since(before) == (1, 0)
    verified = await book.ledger.verify("kai")
    assert (verified.valid, verified.entries_checked) == (True, 3)
    assert (await book.accounts.get_balance("kai")).balance == 60


@pytest.mark.parametrize("replayed", [False, True])
async def test_a_replayed_answer_teaches_nothing_and_applies_nothing(
    redis: aioredis.Redis, replayed: bool
) -> None:
    book = make_book(redis)
    await book.accounts.credit(Credit(account_id="lea", amount=10, idempotency_key="a"))
    await book.accounts.credit(Credit(account_id="lea", amount=10, idempotency_key="b"))
    if replayed:
        again = await book.accounts.credit(Credit(account_id="lea", amount=10, idempotency_key="b"))
        assert again.replayed
    before = _counted()
    await book.accounts.credit(Credit(account_id="lea", amount=10, idempotency_key="c"))
    assert _since(before) == (1, 0)
    verified = await book.ledger.verify("lea")
    assert (verified.valid, verified.entries_checked) == (True, 3)

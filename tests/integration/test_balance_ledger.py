"""Ledger chains over real Valkey: a tampered entry is found, checkpoints make runs incremental."""

from __future__ import annotations

import redis.asyncio as aioredis

from domain.balance import keys
from domain.balance.commands import Credit, Debit
from domain.balance.ledger_service import CORRUPTIONS, ENTRIES_VERIFIED
from domain.balance.replies import text
from tests.balance_support import (
    FakeClock,
    both_stores,  # noqa: F401  (each test on both stores)
    make_book,
)


async def test_a_tampered_entry_is_found_and_alerted(redis: aioredis.Redis) -> None:
    book = make_book(redis, FakeClock())
    for n in range(5):
        await book.accounts.credit(Credit(account_id="vic", amount=100, idempotency_key=f"c{n}"))
    assert (await book.ledger.verify("vic")).valid
    raw = text(await redis.lindex(keys.ledger("vic"), 2) or b"")
    fields = raw.split("|")
    fields[5] = "1000"
    await redis.lset(keys.ledger("vic"), 2, "|".join(fields))
    before = CORRUPTIONS._value.get()
    result = await book.ledger.verify("vic")
    assert not result.valid
    assert result.first_bad_seq == 3
    assert result.reason == "checksum does not match the entry"
    assert CORRUPTIONS._value.get() == before + 1


async def test_a_balance_edited_outside_the_ledger_is_found(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    await book.accounts.credit(Credit(account_id="wes", amount=100, idempotency_key="c"))
    await redis.hset(keys.account("wes"), "balance", "1000000")
    result = await book.ledger.verify("wes")
    assert not result.valid
    assert result.reason == "account balances do not match the ledger"


async def test_incremental_verification_reads_only_new_entries(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    for n in range(4):
        await book.accounts.credit(Credit(account_id="xia", amount=10, idempotency_key=f"a{n}"))
    first = await book.ledger.verify("xia", incremental=True)
    assert (first.valid, first.entries_checked) == (True, 4)
    await book.accounts.debit(Debit(account_id="xia", amount=5, idempotency_key="d"))
    counted = ENTRIES_VERIFIED._value.get()
    second = await book.ledger.verify("xia", incremental=True)
    assert (second.valid, second.entries_checked, second.head_seq) == (True, 1, 5)
    assert ENTRIES_VERIFIED._value.get() == counted + 1
    await redis.lset(keys.ledger("xia"), 4, "tampered")
    third = await book.ledger.verify("xia", incremental=True)
    assert not third.valid
    assert third.first_bad_seq == 5


async def test_entries_and_account_pages(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    await book.accounts.credit(Credit(account_id="yan", amount=10, idempotency_key="a"))
    await book.accounts.debit(Debit(account_id="yan", amount=4, idempotency_key="b"))
    entries = await book.ledger.entries("yan", from_seq=2, limit=5)
    assert [(e.seq, e.amount, e.balance_after) for e in entries] == [(2, -4, 6)]
    assert entries[0].previous_checksum == (await book.ledger.entries("yan"))[0].checksum
    cursor, ids = await book.ledger.account_page(0, 100)
    assert ids == ["yan"]
    assert cursor == 0

"""Accounts over real Valkey: credit, debit, versions, idempotency, events, the SHA-256 script."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest
import redis.asyncio as aioredis

from domain.balance import keys
from domain.balance.scripts import script_source
from domain.errors import DomainError, ErrorCode, NotFound
from tests.balance_support import START_MS, FakeClock, make_book


async def test_lua_sha256_matches_hashlib(redis: aioredis.Redis) -> None:
    source = script_source("ensure_account").split("\nlocal MAX_BALANCE")[0]
    for message in ["", "abc", "a" * 55, "a" * 56, "a" * 64, "x" * 300, "1|a|b|" + "0" * 64]:
        got = await redis.eval(source + "\nreturn sha256_hex(ARGV[1])", 0, message)
        assert got.decode() == hashlib.sha256(message.encode()).hexdigest()


async def test_credit_opens_the_account_and_debit_takes_chips(redis: aioredis.Redis) -> None:
    book = make_book(redis, FakeClock())
    credited = await book.accounts.credit("alice", 500, idempotency_key="c1")
    assert (credited.account.balance, credited.account.version) == (500, 1)
    assert credited.transaction.type == "CREDIT"
    assert credited.transaction.created_at_ms == START_MS
    debited = await book.accounts.debit("alice", 200, idempotency_key="d1", source="WITHDRAWAL")
    assert (debited.account.balance, debited.account.available) == (300, 300)
    assert debited.transaction.amount == -200
    assert await redis.sismember(keys.ACCOUNT_IDS, "alice")
    assert (await book.accounts.get_balance("alice")).balance == 300


async def test_insufficient_funds_changes_nothing_and_is_cached(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    await book.accounts.credit("bob", 100, idempotency_key="c1")
    with pytest.raises(DomainError) as refused:
        await book.accounts.debit("bob", 101, idempotency_key="d1")
    assert refused.value.code is ErrorCode.INSUFFICIENT_FUNDS
    await book.accounts.credit("bob", 100, idempotency_key="c2")
    with pytest.raises(DomainError) as again:
        await book.accounts.debit("bob", 101, idempotency_key="d1")
    assert again.value.code is ErrorCode.INSUFFICIENT_FUNDS
    assert again.value.fields["replayed"] is True
    assert (await book.accounts.get_balance("bob")).balance == 200


async def test_same_key_replays_and_another_request_is_refused(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    first = await book.accounts.credit("carol", 70, idempotency_key="same")
    again = await book.accounts.credit("carol", 70, idempotency_key="same")
    assert again.replayed
    assert again.transaction == first.transaction
    assert (await book.accounts.get_balance("carol")).balance == 70
    with pytest.raises(DomainError) as reused:
        await book.accounts.credit("carol", 71, idempotency_key="same")
    assert reused.value.code is ErrorCode.IDEMPOTENCY_KEY_REUSED
    ttl = await redis.ttl(keys.idempotency("same"))
    assert 86_000 < ttl <= 86_400


async def test_expected_version_guards_against_lost_updates(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    await book.accounts.credit("dave", 10, idempotency_key="c1", expected_version=0)
    with pytest.raises(DomainError) as conflict:
        await book.accounts.credit("dave", 10, idempotency_key="c2", expected_version=0)
    assert conflict.value.code is ErrorCode.VERSION_CONFLICT
    done = await book.accounts.debit("dave", 5, idempotency_key="d1", expected_version=1)
    assert done.account.version == 2


async def test_unknown_accounts(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    with pytest.raises(NotFound):
        await book.accounts.get_balance("nobody")
    with pytest.raises(DomainError) as debit:
        await book.accounts.debit("nobody", 1, idempotency_key="d1")
    assert debit.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(DomainError) as closed:
        await book.accounts.credit("nobody", 1, idempotency_key="c1", open_account=False)
    assert closed.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(NotFound):
        await book.accounts.transactions("nobody")
    assert not await redis.exists(keys.account("nobody"))


async def test_ensure_is_idempotent(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    account, created = await book.accounts.ensure("erin")
    assert created
    assert account.balance == 0
    _, again = await book.accounts.ensure("erin")
    assert not again


async def test_transactions_newest_first(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    for n in range(3):
        await book.accounts.credit("fay", 10 + n, idempotency_key=f"c{n}")
    found = await book.accounts.transactions("fay", limit=2)
    assert [t.amount for t in found] == [12, 11]


async def test_changes_are_published_on_the_players_channel(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    pubsub = redis.pubsub()
    await pubsub.subscribe("user:gina")
    await pubsub.get_message(timeout=1)
    await book.accounts.credit("gina", 42, idempotency_key="c1")
    message = None
    for _ in range(20):
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
        if message:
            break
    await pubsub.aclose()  # type: ignore[no-untyped-call]
    assert message is not None
    event = json.loads(message["data"])
    assert event["kind"] == "balance.changed"
    assert (event["balance"], event["available"], event["source"]) == (42, 42, "DEPOSIT")


async def test_concurrent_debits_never_overdraw(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    await book.accounts.credit("hank", 1_000, idempotency_key="c")
    results = await asyncio.gather(
        *(book.accounts.debit("hank", 30, idempotency_key=f"d{n}") for n in range(50)),
        return_exceptions=True,
    )
    succeeded = [r for r in results if not isinstance(r, BaseException)]
    assert len(succeeded) == 33
    assert all(isinstance(r, DomainError) for r in results if isinstance(r, BaseException))
    assert (await book.accounts.get_balance("hank")).balance == 10
    assert (await book.ledger.verify("hank")).valid

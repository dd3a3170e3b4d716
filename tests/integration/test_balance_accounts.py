"""Accounts over real Valkey: credit, debit, versions, idempotency, events, the SHA-256 script."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from domain.balance import keys
from domain.balance.commands import Credit, Debit, Reserve
from domain.balance.scripts import script_source
from domain.errors import DomainError, ErrorCode, NotFound
from tests.balance_support import (
    START_MS,
    FakeClock,
    both_stores,  # noqa: F401  (each test on both stores)
    make_book,
    next_event,
    subscribed,
)


async def test_lua_sha256_matches_hashlib(redis: aioredis.Redis) -> None:
    source = script_source("ensure_account").split("\nlocal MAX_BALANCE")[0]
    # Every length across the one-, two- and three-block paddings, and bytes of every value.
    messages = [bytes((n * 37 + i) % 256 for i in range(n)) for n in range(200)]
    messages += [b"abc", b"x" * 300, b"1|a|b|" + b"0" * 64, bytes(range(256)) * 8]
    got = await redis.eval(
        source + "\nlocal out = {} for i, m in ipairs(ARGV) do out[i] = sha256_hex(m) end "
        "return out",
        0,
        *messages,
    )
    assert [g.decode() for g in got] == [hashlib.sha256(m).hexdigest() for m in messages]


async def test_credit_opens_the_account_and_debit_takes_chips(redis: aioredis.Redis) -> None:
    book = make_book(redis, FakeClock())
    credited = await book.accounts.credit(
        Credit(account_id="alice", amount=500, idempotency_key="c1")
    )
    assert (credited.account.balance, credited.account.version) == (500, 1)
    assert credited.transaction.type == "CREDIT"
    assert credited.transaction.created_at_ms == START_MS
    debited = await book.accounts.debit(
        Debit(account_id="alice", amount=200, idempotency_key="d1", source="WITHDRAWAL")
    )
    assert (debited.account.balance, debited.account.available) == (300, 300)
    assert debited.transaction.amount == -200
    assert await redis.sismember(keys.account_ids("alice"), "alice")
    assert (await book.accounts.get_balance("alice")).balance == 300


async def test_insufficient_funds_changes_nothing_and_is_cached(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    await book.accounts.credit(Credit(account_id="bob", amount=100, idempotency_key="c1"))
    with pytest.raises(DomainError) as refused:
        await book.accounts.debit(Debit(account_id="bob", amount=101, idempotency_key="d1"))
    assert refused.value.code is ErrorCode.INSUFFICIENT_FUNDS
    await book.accounts.credit(Credit(account_id="bob", amount=100, idempotency_key="c2"))
    with pytest.raises(DomainError) as again:
        await book.accounts.debit(Debit(account_id="bob", amount=101, idempotency_key="d1"))
    assert again.value.code is ErrorCode.INSUFFICIENT_FUNDS
    assert again.value.fields["replayed"] is True
    assert (await book.accounts.get_balance("bob")).balance == 200


async def test_same_key_replays_and_another_request_is_refused(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    first = await book.accounts.credit(
        Credit(account_id="carol", amount=70, idempotency_key="same")
    )
    again = await book.accounts.credit(
        Credit(account_id="carol", amount=70, idempotency_key="same")
    )
    assert again.replayed
    assert again.transaction == first.transaction
    assert (await book.accounts.get_balance("carol")).balance == 70
    with pytest.raises(DomainError) as reused:
        await book.accounts.credit(Credit(account_id="carol", amount=71, idempotency_key="same"))
    assert reused.value.code is ErrorCode.IDEMPOTENCY_KEY_REUSED
    ttl = await redis.ttl(keys.idempotency("carol", "same"))
    assert 86_000 < ttl <= 86_400


async def test_expected_version_guards_against_lost_updates(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    await book.accounts.credit(
        Credit(account_id="dave", amount=10, idempotency_key="c1", expected_version=0)
    )
    with pytest.raises(DomainError) as conflict:
        await book.accounts.credit(
            Credit(account_id="dave", amount=10, idempotency_key="c2", expected_version=0)
        )
    assert conflict.value.code is ErrorCode.VERSION_CONFLICT
    done = await book.accounts.debit(
        Debit(account_id="dave", amount=5, idempotency_key="d1", expected_version=1)
    )
    assert done.account.version == 2


async def test_unknown_accounts(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    with pytest.raises(NotFound):
        await book.accounts.get_balance("nobody")
    with pytest.raises(DomainError) as debit:
        await book.accounts.debit(Debit(account_id="nobody", amount=1, idempotency_key="d1"))
    assert debit.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(DomainError) as closed:
        await book.accounts.credit(
            Credit(account_id="nobody", amount=1, idempotency_key="c1", open_account=False)
        )
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
        await book.accounts.credit(Credit(account_id="fay", amount=10 + n, idempotency_key=f"c{n}"))
    found = await book.accounts.transactions("fay", limit=2)
    assert [t.amount for t in found] == [12, 11]


async def test_changes_are_published_on_the_players_channel(redis: aioredis.Redis) -> None:
    book = make_book(redis, FakeClock())
    pubsub = await subscribed(redis, "user:gina")
    await book.accounts.credit(Credit(account_id="gina", amount=42, idempotency_key="c1"))
    await book.reservations.reserve(
        Reserve(account_id="gina", amount=10, ttl_seconds=30, idempotency_key="r1")
    )
    credited, reserved = await next_event(pubsub), await next_event(pubsub)
    # A replay applies nothing, so it tells no one.
    await book.accounts.credit(Credit(account_id="gina", amount=42, idempotency_key="c1"))
    replayed = await next_event(pubsub)
    await pubsub.aclose()
    at = datetime.fromtimestamp(START_MS / 1000, UTC).isoformat(timespec="microseconds")
    assert credited == {
        "kind": "balance.changed",
        "account_id": "gina",
        "balance": 42,
        "reserved": 0,
        "available": 42,
        "source": "DEPOSIT",
        "at": at,
    }
    assert reserved is not None
    assert (reserved["reserved"], reserved["available"], reserved["source"]) == (10, 32, "BUY_IN")
    assert replayed is None


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2000, 2, 29, 23, 59, 59, 999000, tzinfo=UTC),
        datetime(2024, 12, 31, 12, 0, 0, 5000, tzinfo=UTC),
        datetime(2100, 3, 1, 0, 0, 1, tzinfo=UTC),
    ],
)
async def test_event_times_are_python_isoformat(redis: aioredis.Redis, moment: datetime) -> None:
    source = script_source("ensure_account").split("\nlocal function load_account")[0]
    ms = int(moment.timestamp() * 1000)
    got = await redis.eval(source + "\nreturn iso_utc(tonumber(ARGV[1]))", 0, str(ms))
    assert got.decode() == moment.isoformat(timespec="microseconds")
    assert datetime.fromisoformat(got.decode()) == moment


async def test_concurrent_debits_never_overdraw(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    await book.accounts.credit(Credit(account_id="hank", amount=1_000, idempotency_key="c"))
    results = await asyncio.gather(
        *(
            book.accounts.debit(Debit(account_id="hank", amount=30, idempotency_key=f"d{n}"))
            for n in range(50)
        ),
        return_exceptions=True,
    )
    succeeded = [r for r in results if not isinstance(r, BaseException)]
    assert len(succeeded) == 33
    assert all(isinstance(r, DomainError) for r in results if isinstance(r, BaseException))
    assert (await book.accounts.get_balance("hank")).balance == 10
    assert (await book.ledger.verify("hank")).valid

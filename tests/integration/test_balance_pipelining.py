"""Script calls share pipelined round trips over real Valkey, keep order, survive a flush."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from domain.balance.commands import Credit, Debit
from domain.balance.pipelining import CALLS_PER_ROUND_TRIP
from domain.balance.requests import ScriptAnswer
from domain.errors import DomainError, ErrorCode
from tests.balance_support import make_book


def _round_trips() -> tuple[float, float]:
    """(round trips, calls) counted so far by the pipeline's histogram."""
    (metric,) = CALLS_PER_ROUND_TRIP.collect()
    samples = {s.name: s.value for s in metric.samples}
    prefix = "saga_balance_redis_calls_per_round_trip"
    return samples[f"{prefix}_count"], samples[f"{prefix}_sum"]


async def test_calls_made_together_share_round_trips(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    trips, calls = _round_trips()
    results = await asyncio.gather(
        *(
            book.accounts.credit(Credit(account_id=f"p{n % 5}", amount=1, idempotency_key=f"c{n}"))
            for n in range(100)
        )
    )
    trips_after, calls_after = _round_trips()
    assert calls_after - calls == 100
    # At most two round trips are out at once, so 100 calls cannot each have had their own.
    assert trips_after - trips <= 10
    assert sorted(r.account.version for r in results if r.account.account_id == "p0") == list(
        range(1, 21)
    )
    for n in range(5):
        assert (await book.accounts.get_balance(f"p{n}")).balance == 20
        assert (await book.ledger.verify(f"p{n}")).valid


async def test_a_group_runs_in_order_and_each_call_answers_alone(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    credit, debit = book.accounts.prepare_credit, book.accounts.prepare_debit
    steps = [
        await credit(Credit(account_id="ann", amount=100, idempotency_key="c1")),
        await debit(Debit(account_id="ann", amount=70, idempotency_key="d1")),
        await debit(Debit(account_id="ann", amount=70, idempotency_key="d2")),
        await credit(Credit(account_id="ann", amount=5, idempotency_key="c2")),
    ]
    outcomes = await book.scripts.run_in_order([step.request for step in steps])
    assert [type(o) for o in outcomes] == [ScriptAnswer, ScriptAnswer, DomainError, ScriptAnswer]
    failed = outcomes[2]
    assert isinstance(failed, DomainError)
    assert failed.code is ErrorCode.INSUFFICIENT_FUNDS
    last = outcomes[3]
    assert isinstance(last, ScriptAnswer)
    assert (last.body["account"]["balance"], last.body["account"]["version"]) == (35, 3)


async def test_scripts_reload_after_redis_forgets_them(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    await book.accounts.credit(Credit(account_id="bea", amount=10, idempotency_key="c1"))
    await redis.script_flush()
    results = await asyncio.gather(
        *(
            book.accounts.credit(Credit(account_id="bea", amount=1, idempotency_key=f"again{n}"))
            for n in range(10)
        )
    )
    assert sorted(r.account.version for r in results) == list(range(2, 12))
    assert (await book.ledger.verify("bea")).valid


async def test_a_caller_that_gives_up_does_not_break_the_others(redis: aioredis.Redis) -> None:
    book = make_book(redis)
    # Connected and the slot listed: the calls below wait only on the pipeline.
    await book.accounts.credit(Credit(account_id="cal", amount=10, idempotency_key="first"))
    impatient = asyncio.create_task(
        book.accounts.credit(Credit(account_id="cal", amount=1, idempotency_key="gone"))
    )
    patient = asyncio.create_task(
        book.accounts.credit(Credit(account_id="cal", amount=2, idempotency_key="stays"))
    )
    await asyncio.sleep(0)
    impatient.cancel()
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert (await patient).account.balance in (12, 13)

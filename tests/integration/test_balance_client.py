"""The poker service's client against a real gRPC server: buy-in, cash-out, hands, fallback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from apis.balance.rpc.server import start_grpc_server
from clients.balance import BalanceCallError, BalanceClient, PokerBalance, idempotency_key
from infra.ports import free_port
from tests.balance_support import SECRET, make_book, service_token


@pytest.fixture
async def poker(redis: aioredis.Redis) -> AsyncIterator[PokerBalance]:
    book = make_book(redis)
    await book.accounts.credit("u1", 1_000, idempotency_key="fund-u1")
    await book.accounts.credit("u2", 1_000, idempotency_key="fund-u2")
    server, _, port = await start_grpc_server(book, SECRET, "127.0.0.1:0")
    ticks = iter(range(1_000, 2_000))
    async with BalanceClient(f"127.0.0.1:{port}", service_token()) as client:
        yield PokerBalance(client, clock_ms=lambda: next(ticks))
    await server.stop(grace=None)


def test_keys_follow_the_seed_format() -> None:
    assert idempotency_key("buy-in", "t1", "u1", 1712) == "buy-in:t1:u1:1712"


async def test_buy_in_commits_when_seated(poker: PokerBalance) -> None:
    async def seat() -> bool:
        return True

    result = await poker.buy_in("t1", "u1", 300, seat)
    assert (result.seated, result.status, result.balance, result.available) == (
        True,
        "COMMITTED",
        700,
        700,
    )


async def test_buy_in_releases_when_the_seat_is_taken_or_fails(poker: PokerBalance) -> None:
    async def taken() -> bool:
        return False

    result = await poker.buy_in("t1", "u1", 300, taken)
    assert (result.seated, result.status, result.available) == (False, "RELEASED", 1_000)

    async def broken() -> bool:
        raise RuntimeError("table crashed")

    with pytest.raises(RuntimeError):
        await poker.buy_in("t1", "u1", 300, broken)
    balance = await poker.client.get_balance("u1")
    assert (balance.reserved, balance.available) == (0, 1_000)


async def test_a_buy_in_beyond_the_balance_is_refused(poker: PokerBalance) -> None:
    async def seat() -> bool:
        raise AssertionError("must not be seated")

    with pytest.raises(BalanceCallError) as refused:
        await poker.buy_in("t1", "u1", 5_000, seat)
    assert refused.value.code == "INSUFFICIENT_FUNDS"
    assert not refused.value.unreachable


async def test_a_hand_from_bets_to_settlement_and_cash_out(poker: PokerBalance) -> None:
    await poker.open_hand("t1", "h1")
    await poker.bet("t1", "h1", "u1", 100, sequence=1)
    await poker.bet("t1", "h1", "u2", 100, sequence=1)
    retried = await poker.bet("t1", "h1", "u2", 100, sequence=1)
    assert retried.replayed
    settled = await poker.settle_hand("t1", "h1", [(198, ["u1"])], rake=2)
    assert dict(settled.payouts) == {"u1": 198}
    cashed = await poker.cash_out("t1", "u2", 50)
    assert cashed is not None
    assert (cashed.balance, cashed.transaction.source) == (950, "CASH_OUT")


async def test_permissive_fallback_seats_and_logs_for_reconciliation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with BalanceClient(
        f"127.0.0.1:{free_port()}", service_token(), timeout_seconds=0.3
    ) as down:
        strict = PokerBalance(down)
        with pytest.raises(BalanceCallError) as unreachable:
            await strict.cash_out("t1", "u1", 10)
        assert unreachable.value.unreachable
        permissive = PokerBalance(down, permissive_fallback=True, clock_ms=lambda: 42)

        async def seat() -> bool:
            return True

        with caplog.at_level("WARNING", logger="clients.balance.reconciliation"):
            result = await permissive.buy_in("t1", "u1", 300, seat)
            assert await permissive.cash_out("t1", "u1", 10) is None
    assert (result.seated, result.permissive, result.status) == (True, True, "PERMISSIVE")
    records = [json.loads(r.getMessage()) for r in caplog.records]
    assert [(r["operation"], r["idempotency_key"]) for r in records] == [
        ("buy-in", "buy-in:t1:u1:42"),
        ("cash-out", "cash-out:t1:u1:42"),
    ]

"""A table's money against a real balance gRPC server: every chip counted once, in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from apis.balance.rpc.server import start_grpc_server
from clients.balance import BalanceCallError, BalanceClient, Move, TableMoney
from domain.balance.book import BalanceBook
from domain.balance.commands import Credit
from domain.balance.slots import supply_report
from domain.errors import NotFound
from domain.game.money import HOUSE_ACCOUNT, bet_key, seat_account
from tests.balance_support import SECRET, make_book, service_token

TABLE = "t0123456789"
HAND = f"{TABLE}-h1"


@pytest.fixture
async def book(redis: aioredis.Redis) -> BalanceBook:
    book = make_book(redis)
    for user in ("ann", "bob"):
        await book.accounts.credit(
            Credit(account_id=user, amount=1_000, idempotency_key=f"fund-{user}")
        )
    return book


@pytest.fixture
async def money(book: BalanceBook) -> AsyncIterator[TableMoney]:
    server, _, port = await start_grpc_server(book, SECRET, "127.0.0.1:0")
    async with BalanceClient(f"127.0.0.1:{port}", service_token()) as client:
        yield TableMoney(client)
    await server.stop(grace=None)


async def _balance(book: BalanceBook, account: str) -> int:
    return (await book.accounts.get_balance(account)).balance


async def _supply(redis: aioredis.Redis) -> int:
    report = await supply_report(redis)
    assert report.balanced
    return report.counted


async def test_a_buy_in_moves_chips_from_the_wallet_into_the_seat_once(
    money: TableMoney, book: BalanceBook, redis: aioredis.Redis
) -> None:
    supply = await _supply(redis)
    assert await money.buy_in(TABLE, "ann", 400, sitting=1) == 400
    # A retried activity: the same keys, nothing moves twice.
    assert await money.buy_in(TABLE, "ann", 400, sitting=1) == 400
    assert await _balance(book, "ann") == 600
    assert await _balance(book, seat_account(TABLE, "ann")) == 400
    wallet = await book.accounts.get_balance("ann")
    assert wallet.reserved == 0
    assert await _supply(redis) == supply
    for account in ("ann", seat_account(TABLE, "ann")):
        assert (await book.ledger.verify(account)).valid


async def test_a_buy_in_beyond_the_wallet_moves_nothing(
    money: TableMoney, book: BalanceBook
) -> None:
    with pytest.raises(BalanceCallError) as refused:
        await money.buy_in(TABLE, "ann", 5_000, sitting=1)
    assert refused.value.code == "INSUFFICIENT_FUNDS"
    wallet = await book.accounts.get_balance("ann")
    assert (wallet.balance, wallet.reserved) == (1_000, 0)
    with pytest.raises(NotFound):
        await book.accounts.get_balance(seat_account(TABLE, "ann"))


async def test_a_hand_from_bets_to_settlement_and_cash_out(
    money: TableMoney, book: BalanceBook, redis: aioredis.Redis
) -> None:
    supply = await _supply(redis)
    await money.buy_in(TABLE, "ann", 500, sitting=1)
    await money.buy_in(TABLE, "bob", 500, sitting=1)
    await money.open_pot(TABLE, HAND)
    for seq, (user, chips) in enumerate([("ann", 100), ("bob", 100), ("ann", 50)], start=1):
        await money.contribute(TABLE, HAND, user, chips, bet_key(HAND, user, seq))
        # Retried: the key makes it once.
        await money.contribute(TABLE, HAND, user, chips, bet_key(HAND, user, seq))
    assert await _balance(book, seat_account(TABLE, "ann")) == 350
    # Bob wins 190 of the called 200 (rake 10), Ann's uncalled 50 comes back to her.
    payouts = [Move("bob", 190), Move("ann", 50)]
    await money.settle(TABLE, HAND, payouts, rake=10)
    await money.settle(TABLE, HAND, payouts, rake=10)
    assert await _balance(book, seat_account(TABLE, "ann")) == 400
    assert await _balance(book, seat_account(TABLE, "bob")) == 590
    assert await _balance(book, HOUSE_ACCOUNT) == 10
    await money.cash_out(TABLE, "bob", 590, sitting=1)
    await money.cash_out(TABLE, "bob", 590, sitting=1)
    assert await _balance(book, seat_account(TABLE, "bob")) == 0
    assert await _balance(book, "bob") == 500 + 590
    # Wallets + seats + pots + house = supply, before and after.
    assert await _supply(redis) == supply

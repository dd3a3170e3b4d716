"""The rollout flag's `dual` mode: an outage lets the game go on, reconciliation settles it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.game import GameActivities
from activities.game_reconciliation import (
    RECONCILE_QUEUE,
    REFUSED_QUEUE,
    ReconcileInput,
    Reconciliation,
)
from apis.balance.rpc.server import start_grpc_server
from clients.balance import BalanceClient, TableMoney
from domain.balance.book import BalanceBook
from domain.balance.commands import Credit
from domain.game.money import BalanceMode, seat_account
from domain.gateway.tables import TableEventLog
from infra.ports import free_port
from tests.balance_support import SECRET, make_book, service_token
from workflows.game.models import BuyInInput

TABLE = "t00000000aa"


@pytest.fixture
async def book(redis: aioredis.Redis) -> BalanceBook:
    book = make_book(redis)
    await book.accounts.credit(Credit(account_id="ann", amount=1_000, idempotency_key="f-ann"))
    return book


@pytest.fixture
async def live(book: BalanceBook) -> AsyncIterator[TableMoney]:
    server, _, port = await start_grpc_server(book, SECRET, "127.0.0.1:0")
    async with BalanceClient(f"127.0.0.1:{port}", service_token()) as client:
        yield TableMoney(client)
    await server.stop(grace=None)


async def test_an_outage_is_settled_once_afterwards(
    redis: aioredis.Redis, book: BalanceBook, live: TableMoney
) -> None:
    async with BalanceClient(
        f"127.0.0.1:{free_port()}", service_token(), timeout_seconds=0.5
    ) as down:
        game = GameActivities(TableMoney(down), redis, TableEventLog(redis, 100), BalanceMode.DUAL)
        # The balance service is unreachable: the player sits anyway, the move is queued.
        await ActivityEnvironment().run(game.buy_in, BuyInInput(TABLE, "ann", 300, 1))
    queued = [json.loads(m) for m in await redis.lrange(RECONCILE_QUEUE, 0, -1)]
    assert queued == [
        {"what": "buy_in", "table_id": TABLE, "user_id": "ann", "amount": 300, "sitting": 1}
    ]
    assert (await book.accounts.get_balance("ann")).balance == 1_000

    reconciliation = Reconciliation(live, redis)
    done = await ActivityEnvironment().run(reconciliation.reconcile_queued_moves, ReconcileInput())
    assert (done.applied, done.refused, done.remaining) == (1, 0, 0)
    assert (await book.accounts.get_balance("ann")).balance == 700
    assert (await book.accounts.get_balance(seat_account(TABLE, "ann"))).balance == 300
    # Queued again (a crash before the pop): its keys make it a no-op.
    await redis.rpush(RECONCILE_QUEUE, json.dumps(queued[0]))
    again = await ActivityEnvironment().run(reconciliation.reconcile_queued_moves, ReconcileInput())
    assert again.applied == 1
    assert (await book.accounts.get_balance("ann")).balance == 700


async def test_a_move_the_balance_refuses_is_parked_with_its_reason(
    redis: aioredis.Redis, book: BalanceBook, live: TableMoney
) -> None:
    move = {"what": "buy_in", "table_id": TABLE, "user_id": "ann", "amount": 5_000, "sitting": 2}
    await redis.rpush(RECONCILE_QUEUE, json.dumps(move), "not json")
    done = await ActivityEnvironment().run(
        Reconciliation(live, redis).reconcile_queued_moves, ReconcileInput()
    )
    assert (done.applied, done.refused, done.remaining) == (0, 2, 0)
    parked = [json.loads(p) for p in await redis.lrange(REFUSED_QUEUE, 0, -1)]
    assert [p["code"] for p in parked] == ["INSUFFICIENT_FUNDS", "MALFORMED"]
    assert (await book.accounts.get_balance("ann")).balance == 1_000


async def test_required_mode_refuses_what_the_balance_refuses(
    redis: aioredis.Redis, live: TableMoney
) -> None:
    game = GameActivities(live, redis, TableEventLog(redis, 100), BalanceMode.REQUIRED)
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(game.buy_in, BuyInInput(TABLE, "ann", 5_000, 1))
    assert refused.value.type == "INSUFFICIENT_FUNDS"
    assert refused.value.non_retryable
    assert await redis.llen(RECONCILE_QUEUE) == 0

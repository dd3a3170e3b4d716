"""A game worker SIGKILLed after a balance move is committed and before Temporal hears of it.

The dangerous case for a table's chips: the balance service applied the buy-in (or a blind's
contribution, the hand's settlement, the leaver's cash-out), and the activity's completion is
lost with the process. The table runs on a real `saga worker game` child process against a
real balance gRPC server, with a fault point armed (infra/faults.py); the worker dies by
SIGKILL right after the move; a second worker retries the activity under the same
idempotency keys and the table plays on. Every move must exist once: one transaction per key
and account, the balances of a run without the fault, valid ledgers, every chip accounted for.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from temporalio.client import Client, WorkflowHandle

from apis.balance.rpc.server import start_grpc_server
from domain.balance.book import BalanceBook
from domain.balance.commands import Credit
from domain.balance.slots import supply_report
from domain.game.money import seat_account
from infra.faults import FAULT_ONCE_FILE, FAULT_POINT
from infra.settings import DEV_JWT_SECRET
from tests.conftest import SessionStack
from tests.eventually import assert_eventually
from tests.game_support import open_table, sit, table_config, table_events, view
from tests.worker_process import saga_worker_process
from workflows.game.models import LeaveRequest
from workflows.game.table import TableWorkflow

WALLET = 2_000
BUY_IN = 500
# The kind of idempotency key each armed step's balance calls carry (domain/game/money.py).
KEY_KIND = {"buy_in": "buyin", "contribute": "bet", "settle": "settle", "cash_out": "cashout"}
# Transactions of the whole play, by kind of key: two fundings; two buy-ins (a reservation in
# the wallet, then wallet -> seat); two blinds; one payout to Bob's seat (no flop, no rake);
# Ann's cash-out (a reservation in her seat, then seat -> wallet).
MOVES = {"fund": 2, "buyin": 6, "bet": 2, "settle": 1, "cashout": 3}


def game_worker(
    stack: SessionStack, home: Path, balance: str, task_queue: str, **fault: str
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """`saga worker game` on `task_queue`, moving chips through the balance server at `balance`."""
    env = {
        "BALANCE_GRPC_ADDRESS": balance,
        "GAME_TASK_QUEUE": task_queue,
        "GAME_BALANCE_MODE": "required",
        "JWT_SECRET": DEV_JWT_SECRET,
        **fault,
    }
    return saga_worker_process(stack, home, ["game"], **env)


@pytest.fixture
async def balance(redis: aioredis.Redis) -> AsyncIterator[tuple[BalanceBook, str]]:
    """A real balance gRPC server over the test's Redis; Ann's and Bob's wallets funded."""
    book = BalanceBook.build(redis)
    for user in ("ann", "bob"):
        await book.accounts.credit(
            Credit(account_id=user, amount=WALLET, idempotency_key=f"fund-{user}")
        )
    server, _, port = await start_grpc_server(book, DEV_JWT_SECRET, "127.0.0.1:0")
    yield book, f"127.0.0.1:{port}"
    await server.stop(grace=None)


async def _until_event(redis: aioredis.Redis, table_id: str, kind: str) -> None:
    async def published() -> None:
        assert kind in [e.get("kind") for e in await table_events(redis, table_id)]

    await assert_eventually(published, timeout=60, interval=0.2)


async def _play(handle: WorkflowHandle[Any, Any], redis: aioredis.Redis, table_id: str) -> None:
    """Ann and Bob sit; in the first hand Ann (button, small blind) leaves: she folds, goes home.

    Every step waits on an update's answer or on the table's event stream in Redis, never on
    a query, so it simply waits while no worker runs.
    """
    await sit(handle, "ann", BUY_IN)  # buy-in
    await sit(handle, "bob", BUY_IN)
    await _until_event(redis, table_id, "blind.posted")  # pot opened, blinds contributed
    await handle.execute_update(TableWorkflow.leave, LeaveRequest("ann"))
    await _until_event(redis, table_id, "seat.left")  # pot settled, Ann's stack cashed out


async def _accounts(book: BalanceBook) -> list[str]:
    cursor, accounts = await book.ledger.account_page()
    while cursor:
        cursor, more = await book.ledger.account_page(cursor)
        accounts += more
    return sorted(set(accounts))


async def _moves(book: BalanceBook) -> Counter[tuple[str, str]]:
    """How many transactions each (account, idempotency key) has in the balance log."""
    moves: Counter[tuple[str, str]] = Counter()
    for account in await _accounts(book):
        for tx in await book.accounts.transactions(account, limit=500):
            moves[(account, tx.idempotency_key)] += 1
    return moves


def _kind(key: str) -> str:
    return key.split("-")[0]


def _kinds(moves: Counter[tuple[str, str]]) -> dict[str, int]:
    """The number of transactions of each kind of key (`bet-t…-h1-ann-1` is a `bet`)."""
    return dict(Counter(_kind(key) for _, key in moves.elements()))


async def _chips(book: BalanceBook) -> tuple[int, int]:
    """(wallets + seat accounts + house + open pots, the supply)."""
    held = sum([(await book.accounts.get_balance(a)).balance for a in await _accounts(book)])
    for pot in await book.pots.active():
        table_id, hand_id = pot.split(":")
        held += (await book.pots.get(table_id, hand_id)).total
    report = await supply_report(book.redis)
    return held + report.in_flight, report.counted


@pytest.mark.parametrize("step", list(KEY_KIND))
async def test_a_money_move_killed_after_it_applies_happens_once(
    step: str,
    stack: SessionStack,
    temporal_client: Client,
    redis: aioredis.Redis,
    balance: tuple[BalanceBook, str],
    task_queue: str,
    tmp_path: Path,
) -> None:
    book, address = balance
    config = table_config()
    table = config.table_id
    fired = tmp_path / "fired"
    armed = {FAULT_POINT: f"after_effect:{step}", FAULT_ONCE_FILE: str(fired)}
    with game_worker(stack, tmp_path, address, task_queue, **armed) as doomed:
        handle = await open_table(temporal_client, task_queue, config)
        play = asyncio.create_task(_play(handle, redis, table))
        returncode = await asyncio.to_thread(doomed.wait, 60)
    assert returncode == -9, "the worker should have died by SIGKILL at the fault point"
    assert fired.exists()
    assert not play.done()  # the table waits for its move
    # Committed before the kill: the step's first balance call is in the book, once.
    applied = {n for (_, key), n in (await _moves(book)).items() if _kind(key) == KEY_KIND[step]}
    assert applied == {1}, applied
    assert await _chips(book) == (2 * WALLET, 2 * WALLET)  # and no chip lost with the worker

    with game_worker(stack, tmp_path, address, task_queue):
        await asyncio.wait([play], timeout=90)
        # First, however the table fared: a move applied twice shows here.
        moves = await _moves(book)
        assert _kinds(moves) == MOVES, "a move was applied more than once (or not at all)"
        assert not [m for m, n in moves.items() if n != 1], moves
        await play  # the table played on to Ann's cash-out
        seen = await view(handle)
    await handle.terminate("test over")

    # Bob won Ann's small blind; Ann's 495 went home; the table agrees with the book.
    balances = {a: (await book.accounts.get_balance(a)).balance for a in await _accounts(book)}
    assert {a: b for a, b in balances.items() if b or a in ("ann", "bob")} == {
        "ann": WALLET - 5,
        "bob": WALLET - BUY_IN,
        seat_account(table, "bob"): BUY_IN + 5,
    }
    assert [(s["user_id"], s["stack"]) for s in seen["seats"]] == [("bob", BUY_IN + 5)]
    held, supply = await _chips(book)
    assert held == supply == 2 * WALLET  # wallets + seats + house + open pots
    for account in balances:
        assert (await book.ledger.verify(account)).valid, account
    # The second worker ran the move again: the activity's second attempt (or, for an effect
    # run as a local activity, the killed worker's workflow task timed out and was run again).
    events = (await handle.fetch_history()).events
    retried = [
        e.activity_task_started_event_attributes.attempt
        for e in events
        if e.activity_task_started_event_attributes.attempt > 1
    ]
    timed_out = [e for e in events if e.HasField("workflow_task_timed_out_event_attributes")]
    assert retried == [2] or (not retried and timed_out), retried

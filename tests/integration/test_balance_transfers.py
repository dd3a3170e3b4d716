"""A commit into another account (a buy-in: wallet -> seat) in one script, on every front."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
import redis.asyncio as aioredis
from grpc import aio

from apis.balance.rest.app import create_app
from apis.balance.rpc.server import start_grpc_server
from domain.balance import keys
from domain.balance.book import BalanceBook
from domain.balance.commands import (
    CommitReservation,
    CreatePot,
    Credit,
    RecordContribution,
    Reserve,
)
from domain.balance.slots import supply_report
from domain.balance.types import ReservationStatus
from domain.errors import DomainError, ErrorCode
from protos.balance.v1 import balance_pb2 as pb
from protos.balance.v1 import balance_pb2_grpc as pb_grpc
from tests.balance_support import (
    SECRET,
    FakeClock,
    both_stores,  # noqa: F401  (each test on both stores)
    make_book,
    next_event,
    service_token,
    subscribed,
    user_token,
)

SERVICE = (("authorization", f"Bearer {service_token()}"),)
SEAT = "seat-t1-amy"


async def supply(redis: aioredis.Redis, book: BalanceBook) -> tuple[int, int]:
    """The scripts' supply counter, and what all balances and open pots hold (none in flight)."""
    report = await supply_report(redis)
    assert report.in_flight == 0
    return report.counted, report.held


async def buy_in_ready(redis: aioredis.Redis) -> BalanceBook:
    book = make_book(redis, FakeClock())
    await book.accounts.credit(Credit(account_id="amy", amount=1_000, idempotency_key="fund"))
    await book.reservations.reserve(
        Reserve(
            account_id="amy",
            amount=300,
            ttl_seconds=60,
            idempotency_key="r",
            reservation_id="buyin-1",
            reference="t1",
        )
    )
    return book


async def test_a_buy_in_moves_chips_and_keeps_the_supply(redis: aioredis.Redis) -> None:
    book = await buy_in_ready(redis)
    await book.pots.create(CreatePot(table_id="t0", hand_id="h0"))
    await book.pots.contribute(
        RecordContribution(
            table_id="t0", hand_id="h0", account_id="amy", amount=5, idempotency_key="b"
        )
    )
    before = await supply(redis, book)
    assert before == (1_000, 1_000)
    pubsub = await subscribed(redis, "user:amy", f"user:{SEAT}")
    done = await book.reservations.commit(
        CommitReservation(
            reservation_id="buyin-1",
            amount=200,
            idempotency_key="c",
            to_account_id=SEAT,
            source="BUY_IN",
        )
    )
    # From two slots (two masters on a cluster): in either order.
    events = {str(e["account_id"]): e for e in [await next_event(pubsub) for _ in "ab"] if e}
    wallet_event, seat_event = events.get("amy"), events.get(SEAT)
    await pubsub.aclose()
    assert done.reservation.status is ReservationStatus.COMMITTED
    assert (done.account.balance, done.account.reserved) == (795, 0)
    assert done.to_account is not None
    assert (done.to_account.account_id, done.to_account.balance) == (SEAT, 200)
    assert await supply(redis, book) == before
    assert wallet_event is not None
    assert seat_event is not None
    assert (wallet_event["account_id"], wallet_event["balance"]) == ("amy", 795)
    assert (seat_event["account_id"], seat_event["balance"], seat_event["source"]) == (
        SEAT,
        200,
        "BUY_IN",
    )
    (credit,) = await book.accounts.transactions(SEAT)
    assert (credit.type, credit.amount, credit.reservation_id, credit.reference) == (
        "TRANSFER_IN",
        200,
        "buyin-1",
        "t1",
    )
    for account in ("amy", SEAT):
        assert (await book.ledger.verify(account)).valid


async def test_a_replayed_commit_moves_nothing_twice(redis: aioredis.Redis) -> None:
    book = await buy_in_ready(redis)
    command = CommitReservation(reservation_id="buyin-1", idempotency_key="c", to_account_id=SEAT)
    first = await book.reservations.commit(command)
    lengths = [await redis.llen(keys.ledger(a)) for a in ("amy", SEAT)]
    again = await book.reservations.commit(command)
    assert again.replayed
    assert again.to_account == first.to_account
    assert [await redis.llen(keys.ledger(a)) for a in ("amy", SEAT)] == lengths
    assert (await book.accounts.get_balance(SEAT)).balance == 300
    assert (await book.accounts.get_balance("amy")).balance == 700
    (credit,) = await book.accounts.transactions(SEAT)
    assert credit.source == "BUY_IN"  # the reservation's own source
    with pytest.raises(DomainError) as reused:
        await book.reservations.commit(
            CommitReservation(reservation_id="buyin-1", idempotency_key="c", to_account_id="bob")
        )
    assert reused.value.code is ErrorCode.IDEMPOTENCY_KEY_REUSED


@pytest.mark.parametrize(
    ("to_account_id", "source"),
    [("a:b", ""), ("x" * 65, ""), ("amy", ""), (SEAT, "NOPE"), ("", "BUY_IN")],
)
async def test_a_bad_target_moves_nothing(
    redis: aioredis.Redis, to_account_id: str, source: str
) -> None:
    book = await buy_in_ready(redis)
    with pytest.raises(DomainError) as refused:
        await book.reservations.commit(
            CommitReservation(
                reservation_id="buyin-1",
                idempotency_key="c",
                to_account_id=to_account_id,
                source=source,
            )
        )
    assert refused.value.code is ErrorCode.VALIDATION_FAILED
    assert (await book.reservations.get("buyin-1")).status is ReservationStatus.PENDING
    account = await book.accounts.get_balance("amy")
    assert (account.balance, account.reserved) == (1_000, 300)
    assert not await redis.exists(keys.account(SEAT))


@pytest.fixture
async def channel(redis: aioredis.Redis) -> AsyncIterator[aio.Channel]:
    server, _, port = await start_grpc_server(make_book(redis), SECRET, "127.0.0.1:0")
    async with aio.insecure_channel(f"127.0.0.1:{port}") as chan:
        yield chan
    await server.stop(grace=None)


async def refused(call: Any, status: grpc.StatusCode, code: str) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == status
    metadata: Any = caught.value.trailing_metadata() or ()
    assert dict(metadata)["error-code"] == code


async def test_grpc_commit_into_an_account(channel: aio.Channel) -> None:
    stub = pb_grpc.BalanceServiceStub(channel)
    await stub.Credit(
        pb.CreditRequest(account_id="amy", amount=500, idempotency_key="f"), metadata=SERVICE
    )
    reserve = pb.ReserveRequest(
        account_id="amy", amount=100, ttl_seconds=60, idempotency_key="r", reservation_id="b1"
    )
    await stub.Reserve(reserve, metadata=SERVICE)
    bad = pb.CommitReservationRequest(reservation_id="b1", idempotency_key="c0", to_account_id="a*")
    await refused(
        stub.CommitReservation(bad, metadata=SERVICE),
        grpc.StatusCode.INVALID_ARGUMENT,
        "VALIDATION_FAILED",
    )
    player = (("authorization", f"Bearer {user_token('amy')}"),)
    mine = pb.CommitReservationRequest(
        reservation_id="b1", idempotency_key="c1", to_account_id=SEAT
    )
    await refused(
        stub.CommitReservation(mine, metadata=player),
        grpc.StatusCode.PERMISSION_DENIED,
        "FORBIDDEN",
    )
    done = await stub.CommitReservation(mine, metadata=SERVICE)
    assert (done.balance, done.to_account.account_id, done.to_account.balance) == (400, SEAT, 100)
    plain = await stub.CommitReservation(
        pb.CommitReservationRequest(reservation_id="b1", idempotency_key="c1", to_account_id=SEAT),
        metadata=SERVICE,
    )
    assert plain.replayed
    # A batch reserves with a chosen id and commits it into a seat further down.
    answer = await stub.Batch(
        pb.BatchRequest(
            operations=[
                pb.BatchOperation(
                    reserve=pb.ReserveRequest(
                        account_id="amy",
                        amount=50,
                        ttl_seconds=60,
                        idempotency_key="r2",
                        reservation_id="b2",
                    )
                ),
                pb.BatchOperation(
                    commit_reservation=pb.CommitReservationRequest(
                        reservation_id="b2", idempotency_key="c2", to_account_id=SEAT
                    )
                ),
            ]
        ),
        metadata=SERVICE,
    )
    committed = answer.results[1].reservation
    assert (committed.balance, committed.to_account.balance) == (350, 150)
    for account in ("amy", SEAT):
        verified = await stub.VerifyLedger(
            pb.VerifyLedgerRequest(account_id=account), metadata=SERVICE
        )
        assert verified.valid


async def test_http_commit_into_an_account(redis: aioredis.Redis) -> None:
    transport = httpx.ASGITransport(app=create_app(make_book(redis), SECRET))
    headers = {"Authorization": f"Bearer {service_token()}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://balance") as http:
        await http.post(
            "/api/accounts/amy/deposit",
            json={"amount": 100},
            headers={**headers, "Idempotency-Key": "d"},
        )
        await http.post(
            "/api/accounts/amy/reservations",
            json={"amount": 60, "reservation_id": "b1"},
            headers={**headers, "Idempotency-Key": "r"},
        )
        bad = await http.post(
            "/api/reservations/b1/commit",
            json={"amount": 60, "to_account_id": "no{pe}"},
            headers={**headers, "Idempotency-Key": "c0"},
        )
        assert (bad.status_code, bad.json()["code"]) == (422, "VALIDATION_FAILED")
        done = await http.post(
            "/api/reservations/b1/commit",
            json={"amount": 60, "to_account_id": SEAT},
            headers={**headers, "Idempotency-Key": "c"},
        )
        assert done.status_code == 200
        assert (done.json()["balance"], done.json()["to_account"]["balance"]) == (40, 60)
        economy = await http.get("/api/economy", headers=headers)
        assert economy.json()["chip_supply"] == 100

"""The gRPC front: every BalanceService method, its errors, health checking and reflection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from apis.balance.rpc.server import start_grpc_server
from protos.balance.v1 import balance_pb2 as pb
from protos.balance.v1 import balance_pb2_grpc as pb_grpc
from tests.balance_support import SECRET, make_book, service_token, user_token

AUTH = (("authorization", f"Bearer {service_token()}"),)


@pytest.fixture
async def channel(redis: aioredis.Redis) -> AsyncIterator[aio.Channel]:
    server, _, port = await start_grpc_server(make_book(redis), SECRET, "127.0.0.1:0")
    async with aio.insecure_channel(f"127.0.0.1:{port}") as chan:
        yield chan
    await server.stop(grace=None)


async def refused(call: object, status: grpc.StatusCode, code: str) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.code() == status
    metadata: Any = caught.value.trailing_metadata() or ()
    assert dict(metadata)["error-code"] == code


async def test_accounts_and_their_errors(channel: aio.Channel) -> None:
    stub = pb_grpc.BalanceServiceStub(channel)
    ensured = await stub.EnsureAccount(pb.EnsureAccountRequest(account_id="al"), metadata=AUTH)
    assert ensured.created
    credit = await stub.Credit(
        pb.CreditRequest(account_id="al", amount=300, idempotency_key="c1"), metadata=AUTH
    )
    assert (credit.balance, credit.available, credit.transaction.source) == (300, 300, "DEPOSIT")
    again = await stub.Credit(
        pb.CreditRequest(account_id="al", amount=300, idempotency_key="c1"), metadata=AUTH
    )
    assert again.replayed
    debit = await stub.Debit(
        pb.DebitRequest(account_id="al", amount=100, idempotency_key="d1", expected_version=1),
        metadata=AUTH,
    )
    assert (debit.balance, debit.version) == (200, 2)
    got = await stub.GetBalance(pb.GetBalanceRequest(account_id="al"), metadata=AUTH)
    assert (got.balance, got.reserved, got.available, got.stale) == (200, 0, 200, False)
    listed = await stub.GetTransactions(pb.GetTransactionsRequest(account_id="al"), metadata=AUTH)
    assert [t.amount for t in listed.transactions] == [-100, 300]

    Status = grpc.StatusCode
    await refused(
        stub.GetBalance(pb.GetBalanceRequest(account_id="al")),
        Status.UNAUTHENTICATED,
        "UNAUTHENTICATED",
    )
    user = (("authorization", f"Bearer {user_token('bo')}"),)
    await refused(
        stub.GetBalance(pb.GetBalanceRequest(account_id="al"), metadata=user),
        Status.PERMISSION_DENIED,
        "FORBIDDEN",
    )
    await refused(
        stub.GetBalance(pb.GetBalanceRequest(account_id="zz"), metadata=AUTH),
        Status.NOT_FOUND,
        "NOT_FOUND",
    )
    await refused(
        stub.GetBalance(pb.GetBalanceRequest(account_id="a:*"), metadata=AUTH),
        Status.INVALID_ARGUMENT,
        "VALIDATION_FAILED",
    )
    await refused(
        stub.Debit(
            pb.DebitRequest(account_id="al", amount=1000, idempotency_key="d2"), metadata=AUTH
        ),
        Status.FAILED_PRECONDITION,
        "INSUFFICIENT_FUNDS",
    )
    await refused(
        stub.Debit(pb.DebitRequest(account_id="al", amount=1), metadata=AUTH),
        Status.INVALID_ARGUMENT,
        "IDEMPOTENCY_KEY_REQUIRED",
    )
    await refused(
        stub.Debit(
            pb.DebitRequest(account_id="al", amount=-1, idempotency_key="d3"), metadata=AUTH
        ),
        Status.INVALID_ARGUMENT,
        "VALIDATION_FAILED",
    )
    await refused(
        stub.Credit(
            pb.CreditRequest(account_id="al", amount=5, idempotency_key="c1"), metadata=AUTH
        ),
        Status.ALREADY_EXISTS,
        "IDEMPOTENCY_KEY_REUSED",
    )
    await refused(
        stub.Credit(
            pb.CreditRequest(account_id="al", amount=5, idempotency_key="c9", expected_version=0),
            metadata=AUTH,
        ),
        Status.ABORTED,
        "VERSION_CONFLICT",
    )
    await refused(
        stub.Credit(
            pb.CreditRequest(account_id="al", amount=5, idempotency_key="c8", source="RAKE"),
            metadata=AUTH,
        ),
        Status.INVALID_ARGUMENT,
        "VALIDATION_FAILED",
    )
    assert (
        await stub.GetBalance(pb.GetBalanceRequest(account_id="al"), metadata=AUTH)
    ).balance == 200


async def test_reservations_and_ledger(channel: aio.Channel) -> None:
    stub = pb_grpc.BalanceServiceStub(channel)
    await stub.Credit(
        pb.CreditRequest(account_id="al", amount=100, idempotency_key="c"), metadata=AUTH
    )
    held = await stub.Reserve(
        pb.ReserveRequest(account_id="al", amount=80, ttl_seconds=30, idempotency_key="r1"),
        metadata=AUTH,
    )
    rid = held.reservation.reservation_id
    assert (held.reserved, held.available, held.reservation.status) == (80, 20, "PENDING")
    active = await stub.GetActiveReservations(
        pb.GetActiveReservationsRequest(account_id="al"), metadata=AUTH
    )
    assert [r.reservation_id for r in active.reservations] == [rid]
    committed = await stub.CommitReservation(
        pb.CommitReservationRequest(reservation_id=rid, amount=30, idempotency_key="c1"),
        metadata=AUTH,
    )
    assert (committed.balance, committed.reserved, committed.reservation.committed_amount) == (
        70,
        0,
        30,
    )
    await refused(
        stub.ReleaseReservation(
            pb.ReleaseReservationRequest(reservation_id=rid, idempotency_key="x"), metadata=AUTH
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "RESERVATION_ALREADY_RESOLVED",
    )
    second = await stub.Reserve(
        pb.ReserveRequest(
            account_id="al", amount=10, ttl_seconds=30, idempotency_key="r2", reservation_id="mine"
        ),
        metadata=AUTH,
    )
    assert second.reservation.reservation_id == "mine"
    released = await stub.ReleaseReservation(
        pb.ReleaseReservationRequest(reservation_id="mine", idempotency_key="rel"), metadata=AUTH
    )
    assert (released.reservation.status, released.available) == ("RELEASED", 70)
    await refused(
        stub.Reserve(
            pb.ReserveRequest(account_id="al", amount=1, ttl_seconds=0, idempotency_key="r3"),
            metadata=AUTH,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "VALIDATION_FAILED",
    )
    await refused(
        stub.CommitReservation(
            pb.CommitReservationRequest(reservation_id="nope", idempotency_key="c2"), metadata=AUTH
        ),
        grpc.StatusCode.NOT_FOUND,
        "NOT_FOUND",
    )
    entries = await stub.GetLedgerEntries(
        pb.GetLedgerEntriesRequest(account_id="al", from_seq=2, limit=2), metadata=AUTH
    )
    assert [e.seq for e in entries.entries] == [2, 3]
    assert entries.entries[1].previous_checksum == entries.entries[0].checksum
    verified = await stub.VerifyLedger(pb.VerifyLedgerRequest(account_id="al"), metadata=AUTH)
    assert (verified.valid, verified.entries_checked, verified.first_bad_seq) == (True, 5, 0)
    await refused(
        stub.VerifyLedger(pb.VerifyLedgerRequest(account_id="nobody"), metadata=AUTH),
        grpc.StatusCode.NOT_FOUND,
        "NOT_FOUND",
    )


async def test_pots(channel: aio.Channel) -> None:
    stub = pb_grpc.BalanceServiceStub(channel)
    for player in ("al", "bo"):
        await stub.Credit(
            pb.CreditRequest(account_id=player, amount=100, idempotency_key=f"f-{player}"),
            metadata=AUTH,
        )
    created = await stub.CreatePot(pb.CreatePotRequest(table_id="t", hand_id="h"), metadata=AUTH)
    assert (created.created, created.pot.status) == (True, "OPEN")
    held = await stub.Reserve(
        pb.ReserveRequest(account_id="al", amount=60, ttl_seconds=30, idempotency_key="r"),
        metadata=AUTH,
    )
    bet = await stub.RecordContribution(
        pb.RecordContributionRequest(
            table_id="t",
            hand_id="h",
            account_id="al",
            amount=50,
            idempotency_key="b1",
            reservation_id=held.reservation.reservation_id,
        ),
        metadata=AUTH,
    )
    assert (bet.balance, bet.reserved, bet.pot.total) == (50, 0, 50)
    await stub.RecordContribution(
        pb.RecordContributionRequest(
            table_id="t", hand_id="h", account_id="bo", amount=50, idempotency_key="b2"
        ),
        metadata=AUTH,
    )
    settled = await stub.SettlePot(
        pb.SettlePotRequest(
            table_id="t",
            hand_id="h",
            side_pots=[pb.SidePot(amount=95, winner_ids=["bo"])],
            rake=5,
            idempotency_key="s",
        ),
        metadata=AUTH,
    )
    assert (dict(settled.payouts), settled.rake, settled.pot.status) == ({"bo": 95}, 5, "SETTLED")
    assert {a.account_id: a.balance for a in settled.accounts} == {"bo": 145, "house": 5}
    await refused(
        stub.CancelPot(
            pb.CancelPotRequest(table_id="t", hand_id="h", idempotency_key="x"), metadata=AUTH
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "POT_ALREADY_SETTLED",
    )
    await stub.CreatePot(pb.CreatePotRequest(table_id="t", hand_id="h2"), metadata=AUTH)
    await stub.RecordContribution(
        pb.RecordContributionRequest(
            table_id="t", hand_id="h2", account_id="al", amount=20, idempotency_key="b3"
        ),
        metadata=AUTH,
    )
    cancelled = await stub.CancelPot(
        pb.CancelPotRequest(table_id="t", hand_id="h2", idempotency_key="x2"), metadata=AUTH
    )
    assert (dict(cancelled.payouts), cancelled.pot.status) == ({"al": 20}, "CANCELLED")
    player_auth = (("authorization", f"Bearer {user_token('al')}"),)
    await refused(
        stub.CreatePot(pb.CreatePotRequest(table_id="t", hand_id="h3"), metadata=player_auth),
        grpc.StatusCode.PERMISSION_DENIED,
        "FORBIDDEN",
    )
    await refused(
        stub.SettlePot(
            pb.SettlePotRequest(
                table_id="t",
                hand_id="h9",
                side_pots=[pb.SidePot(amount=1, winner_ids=["al"])],
                idempotency_key="s9",
            ),
            metadata=AUTH,
        ),
        grpc.StatusCode.NOT_FOUND,
        "NOT_FOUND",
    )


async def test_health_and_reflection(channel: aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "balance.v1.BalanceService"):
        answer = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
    reflect = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = reflect.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = []
    async for response in responses:
        names = [s.name for s in response.list_services_response.service]
    assert "balance.v1.BalanceService" in names


async def test_batch_applies_in_order_and_answers_each_operation(channel: aio.Channel) -> None:
    stub = pb_grpc.BalanceServiceStub(channel)
    Op = pb.BatchOperation
    ops = [
        Op(credit=pb.CreditRequest(account_id="bt", amount=100, idempotency_key="b-c1")),
        Op(
            reserve=pb.ReserveRequest(
                account_id="bt",
                amount=60,
                ttl_seconds=60,
                reservation_id="bt-seat",
                idempotency_key="b-r1",
            )
        ),
        # Needs the reservation just above: order is kept.
        Op(
            commit_reservation=pb.CommitReservationRequest(
                reservation_id="bt-seat", amount=25, idempotency_key="b-k1"
            )
        ),
        Op(debit=pb.DebitRequest(account_id="bt", amount=500, idempotency_key="b-d1")),
        Op(debit=pb.DebitRequest(account_id="bt", amount=-5, idempotency_key="b-d2")),
        Op(),
        Op(
            release_reservation=pb.ReleaseReservationRequest(
                reservation_id="bt-seat", idempotency_key="b-x1"
            )
        ),
        Op(debit=pb.DebitRequest(account_id="bt", amount=75, idempotency_key="b-d3")),
    ]
    answer = await stub.Batch(pb.BatchRequest(operations=ops), metadata=AUTH)
    kinds = [r.WhichOneof("result") for r in answer.results]
    assert kinds == [
        "mutation",
        "reservation",
        "reservation",
        "error",
        "error",
        "error",
        "error",
        "mutation",
    ]
    results = answer.results
    assert (results[0].mutation.balance, results[0].mutation.version) == (100, 1)
    assert (results[1].reservation.reserved, results[1].reservation.available) == (60, 40)
    assert results[2].reservation.reservation.status == "COMMITTED"
    assert (results[2].reservation.balance, results[2].reservation.reserved) == (75, 0)
    assert [r.error.code for r in results[3:7]] == [
        "INSUFFICIENT_FUNDS",
        "VALIDATION_FAILED",
        "VALIDATION_FAILED",
        "RESERVATION_ALREADY_RESOLVED",
    ]
    assert all(r.error.message for r in results[3:7])
    assert (results[7].mutation.balance, results[7].mutation.version) == (0, 4)
    # The whole batch again: every applied operation replays, every refusal stays refused.
    again = await stub.Batch(pb.BatchRequest(operations=ops), metadata=AUTH)
    assert [r.WhichOneof("result") for r in again.results] == kinds
    assert (again.results[0].mutation.replayed, again.results[7].mutation.replayed) == (True, True)
    assert again.results[3].error.code == "INSUFFICIENT_FUNDS"
    got = await stub.GetBalance(pb.GetBalanceRequest(account_id="bt"), metadata=AUTH)
    assert (got.balance, got.version) == (0, 4)
    verified = await stub.VerifyLedger(pb.VerifyLedgerRequest(account_id="bt"), metadata=AUTH)
    assert (verified.valid, verified.entries_checked) == (True, 4)


async def test_batch_limits_and_callers(channel: aio.Channel) -> None:
    stub = pb_grpc.BalanceServiceStub(channel)
    Status = grpc.StatusCode
    await refused(
        stub.Batch(pb.BatchRequest(), metadata=AUTH), Status.INVALID_ARGUMENT, "VALIDATION_FAILED"
    )
    credit = pb.BatchOperation(credit=pb.CreditRequest(account_id="bx", amount=1))
    await refused(
        stub.Batch(pb.BatchRequest(operations=[credit] * 1001), metadata=AUTH),
        Status.INVALID_ARGUMENT,
        "VALIDATION_FAILED",
    )
    await refused(
        stub.Batch(pb.BatchRequest(operations=[credit])),
        Status.UNAUTHENTICATED,
        "UNAUTHENTICATED",
    )
    # A player may batch only their own account's operations; the rest are refused one by one.
    user = (("authorization", f"Bearer {user_token('by')}"),)
    mine = pb.BatchOperation(
        credit=pb.CreditRequest(account_id="by", amount=3, idempotency_key="u1")
    )
    theirs = pb.BatchOperation(
        debit=pb.DebitRequest(account_id="bz", amount=1, idempotency_key="u2")
    )
    answer = await stub.Batch(pb.BatchRequest(operations=[mine, theirs]), metadata=user)
    assert answer.results[0].mutation.balance == 3
    assert answer.results[1].error.code == "FORBIDDEN"
    await refused(
        stub.GetBalance(pb.GetBalanceRequest(account_id="bz"), metadata=AUTH),
        Status.NOT_FOUND,
        "NOT_FOUND",
    )

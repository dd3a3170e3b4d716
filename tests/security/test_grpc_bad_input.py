"""BalanceService under bad input: every refusal carries a status and an `error-code`.

Malformed bytes, oversized messages, impossible amounts and hostile ids are refused, nothing
is written, and the server keeps serving the next good call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis
from grpc import aio

from apis.balance.rpc.guard import MAX_REQUEST_BYTES, TRANSPORT_MAX_BYTES
from apis.balance.rpc.server import start_grpc_server
from domain.balance.book import BalanceBook
from infra.settings import DEV_JWT_SECRET
from infra.tokens import TokenKind, issue_token
from protos.balance.v1 import balance_pb2 as pb
from protos.balance.v1 import balance_pb2_grpc as pb_grpc
from tests.security.hostile import HOSTILE_IDS
from tests.security.tally import tried
from tests.snapshots import assert_unchanged, snapshot

# Issued when the module is collected, so valid for the whole run: a front's own service
# tokens live 5 minutes, less than the suite takes to reach these tests.
AUTH = (
    (
        "authorization",
        f"Bearer {issue_token(DEV_JWT_SECRET, 'tests', kind=TokenKind.SERVICE, ttl_seconds=86400)}",
    ),
)
INVALID = grpc.StatusCode.INVALID_ARGUMENT
INT64_MAX = 2**63 - 1


@pytest.fixture
async def served(redis: aioredis.Redis) -> AsyncIterator[tuple[aio.Channel, aioredis.Redis]]:
    server, _, port = await start_grpc_server(
        BalanceBook.build(redis), DEV_JWT_SECRET, "127.0.0.1:0"
    )
    options = [("grpc.max_send_message_length", TRANSPORT_MAX_BYTES * 2)]
    async with aio.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
        yield channel, redis
    await server.stop(grace=None)


async def _refused(call: Any, status: grpc.StatusCode = INVALID) -> str:
    with pytest.raises(aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == status, (caught.value.code(), caught.value.details())
    metadata: dict[str, Any] = dict(caught.value.trailing_metadata() or ())  # type: ignore[arg-type]
    assert "error-code" in metadata, metadata
    return str(metadata["error-code"])


async def _still_serving(stub: pb_grpc.BalanceServiceStub, account: str = "ok") -> None:
    request = pb.EnsureAccountRequest(account_id=account)
    reply = await stub.EnsureAccount(request, metadata=AUTH)  # type: ignore[misc]
    assert reply.account_id == account


async def test_malformed_bytes_are_invalid_argument(
    served: tuple[aio.Channel, aioredis.Redis],
) -> None:
    channel, redis = served
    garbage = [
        b"\xff",
        b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",  # an endless varint
        b"\x0a\xff\xff\xff\x0f",  # a string field longer than the message
        b"\x0a\x02\xc3\x28",  # invalid UTF-8 in a string field
        b"\x0b",  # a group start that never ends
        b"\x12\x05abc",
        bytes(range(256)),
    ]
    before = await snapshot(None, redis)
    for method in ("Credit", "Debit", "Reserve", "CommitReservation", "SettlePot"):
        call = channel.unary_unary(
            f"/balance.v1.BalanceService/{method}",
            request_serializer=lambda raw: raw,
            response_deserializer=lambda raw: raw,
        )
        for raw in garbage:
            code = await _refused(call(raw, metadata=AUTH))
            assert code in ("VALIDATION_FAILED", "IDEMPOTENCY_KEY_REQUIRED"), (method, raw, code)
            assert_unchanged(before, await snapshot(None, redis), (method, raw))
            tried("grpc")
    await _still_serving(pb_grpc.BalanceServiceStub(channel))
    assert await redis.keys("*{ok}*")  # the only account: the last, good call's


async def test_oversized_messages_are_refused_and_the_server_stays_up(
    served: tuple[aio.Channel, aioredis.Redis],
) -> None:
    channel, redis = served
    stub = pb_grpc.BalanceServiceStub(channel)
    before = await snapshot(None, redis)
    big = pb.CreditRequest(account_id="al", amount=5, idempotency_key="k", reference="r")
    big.source = "s" * (MAX_REQUEST_BYTES + 1)
    assert await _refused(stub.Credit(big, metadata=AUTH)) == "PAYLOAD_TOO_LARGE"
    # Above what the transport accepts, gRPC itself answers RESOURCE_EXHAUSTED before any
    # handler runs (see apis/balance/rpc/guard.py): there is no error-code to carry.
    huge = pb.CreditRequest(account_id="al", amount=5, idempotency_key="k")
    huge.source = "s" * (TRANSPORT_MAX_BYTES + 1)
    with pytest.raises(aio.AioRpcError) as caught:
        await stub.Credit(huge, metadata=AUTH)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert_unchanged(before, await snapshot(None, redis))
    tried("grpc", 2)
    await _still_serving(stub)


async def test_impossible_amounts_and_hostile_ids_change_nothing(
    served: tuple[aio.Channel, aioredis.Redis],
) -> None:
    channel, redis = served
    stub = pb_grpc.BalanceServiceStub(channel)
    await stub.EnsureAccount(pb.EnsureAccountRequest(account_id="al"), metadata=AUTH)
    await stub.Credit(
        pb.CreditRequest(account_id="al", amount=100, idempotency_key="seed"), metadata=AUTH
    )
    keys_before = sorted(await redis.keys("*"))
    before = await snapshot(None, redis)
    calls: list[Any] = []
    for amount in (0, -1, -(2**63), INT64_MAX, 10**15):
        calls += [
            stub.Credit(
                pb.CreditRequest(account_id="al", amount=amount, idempotency_key="a"), metadata=AUTH
            ),
            stub.Debit(
                pb.DebitRequest(account_id="al", amount=amount, idempotency_key="b"), metadata=AUTH
            ),
            stub.Reserve(
                pb.ReserveRequest(
                    account_id="al", amount=amount, ttl_seconds=60, idempotency_key="c"
                ),
                metadata=AUTH,
            ),
        ]
    for ttl in (0, -5, INT64_MAX):
        calls.append(
            stub.Reserve(
                pb.ReserveRequest(account_id="al", amount=1, ttl_seconds=ttl, idempotency_key="d"),
                metadata=AUTH,
            )
        )
    for limit in (-1, 2**31 - 1):
        calls.append(
            stub.GetLedgerEntries(
                pb.GetLedgerEntriesRequest(account_id="al", limit=limit), metadata=AUTH
            )
        )
    calls.append(
        stub.GetLedgerEntries(
            pb.GetLedgerEntriesRequest(account_id="al", from_seq=-3), metadata=AUTH
        )
    )
    calls.append(stub.Credit(pb.CreditRequest(account_id="al", amount=5), metadata=AUTH))
    for bad in HOSTILE_IDS:
        calls += [
            stub.EnsureAccount(pb.EnsureAccountRequest(account_id=bad), metadata=AUTH),
            stub.GetBalance(pb.GetBalanceRequest(account_id=bad), metadata=AUTH),
            stub.Credit(
                pb.CreditRequest(account_id=bad, amount=5, idempotency_key="e"), metadata=AUTH
            ),
            stub.CommitReservation(
                pb.CommitReservationRequest(reservation_id=bad, idempotency_key="f"), metadata=AUTH
            ),
            stub.CreatePot(pb.CreatePotRequest(table_id=bad, hand_id="h"), metadata=AUTH),
        ]
    for key in ("*", "a b", "a\nb", "{k}", "' OR 1=1", "k" * 201, "\x00", "ä"):
        request = pb.CreditRequest(account_id="al", amount=5, idempotency_key=key)
        calls.append(stub.Credit(request, metadata=AUTH))
    for number, call in enumerate(calls):
        await _refused(call)
        assert_unchanged(before, await snapshot(None, redis), f"bad call #{number}")
        tried("grpc")
    assert sorted(await redis.keys("*")) == keys_before
    got = await stub.GetBalance(pb.GetBalanceRequest(account_id="al"), metadata=AUTH)
    assert (got.balance, got.reserved) == (100, 0)

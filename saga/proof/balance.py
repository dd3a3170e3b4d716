"""Concurrent gRPC clients moving chips on a few accounts, each call retried under its key."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
from grpc import aio

from clients.balance.client import BalanceCallError
from protos.balance.v1 import balance_pb2 as pb
from protos.balance.v1 import balance_pb2_grpc as pb_grpc

if TYPE_CHECKING:
    from protos.balance.v1.balance_pb2_grpc import BalanceServiceAsyncStub

# The outcome of these is unknown: the same request (and key) is sent again.
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
# Refusals the load provokes on purpose; any other refusal is a finding.
EXPECTED_REFUSALS = {"INSUFFICIENT_FUNDS", "RESERVATION_EXPIRED", "RESERVATION_ALREADY_RESOLVED"}
# Small enough that debits and reservations run into INSUFFICIENT_FUNDS now and then.
SEED_CHIPS = 3_000
_RESERVATION_TTL_SECONDS = 3600


@dataclass
class _Pending:
    """A call whose outcome the faults hid, to ask again after them."""

    kind: str
    account_id: str
    request: Any


@dataclass
class BalanceLoad:
    """Credits, debits and reservations at about `rate` calls per second across `clients`."""

    address: str
    token: str
    rng: random.Random
    accounts: int = 4
    clients: int = 6
    rate: float = 40.0
    answer_timeout: float = 120.0
    replay_share: float = 0.1
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    expected: dict[str, int] = field(default_factory=dict)
    applied: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    ops: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    unresolved: list[_Pending] = field(default_factory=list)
    open_reservations: dict[str, tuple[str, int]] = field(default_factory=dict)
    _channel: aio.Channel | None = None
    _stub: BalanceServiceAsyncStub | None = None
    _counter: int = 0

    @property
    def account_ids(self) -> list[str]:
        """The run's accounts."""
        return [f"proof-{self.run_id}-{n}" for n in range(self.accounts)]

    @property
    def stub(self) -> BalanceServiceAsyncStub:
        """The stub on the open channel."""
        if self._stub is None:
            self._channel = aio.insecure_channel(self.address)
            self._stub = pb_grpc.BalanceServiceStub(self._channel)
        return self._stub

    async def close(self) -> None:
        """Close the channel."""
        if self._channel is not None:
            await self._channel.close(grace=None)

    async def seed(self) -> None:
        """Open every account and credit it SEED_CHIPS."""
        for account_id in self.account_ids:
            self.expected[account_id] = 0
            await self._call("open", account_id, pb.EnsureAccountRequest(account_id=account_id))
            await self._credit(account_id, SEED_CHIPS)

    async def run(self, stop: asyncio.Event) -> None:
        """Every client calls in a loop, paced to the rate, until `stop`."""
        await asyncio.gather(*(self._client(stop) for _ in range(self.clients)))

    async def _client(self, stop: asyncio.Event) -> None:
        held: list[str] = []
        pause = self.clients / self.rate
        while not stop.is_set():
            account_id = self.rng.choice(self.account_ids)
            roll = self.rng.random()
            if held and roll < 0.35:
                reservation_id = held.pop(self.rng.randrange(len(held)))
                if self.rng.random() < 0.6:
                    await self._commit(reservation_id)
                else:
                    await self._release(reservation_id)
            elif roll < 0.55:
                if reserved := await self._reserve(account_id, self.rng.randint(1, 400)):
                    held.append(reserved)
            elif roll < 0.8:
                await self._credit(account_id, self.rng.randint(1, 300))
            else:
                await self._debit(account_id, self.rng.randint(1, 1_500))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause * self.rng.uniform(0.5, 1.5))

    def _key(self, kind: str) -> str:
        self._counter += 1
        return f"proof-{self.run_id}-{kind}-{self._counter}"

    async def _credit(self, account_id: str, amount: int) -> None:
        request = pb.CreditRequest(
            account_id=account_id, amount=amount, idempotency_key=self._key("credit")
        )
        answer = await self._call("credit", account_id, request)
        if answer is not None:
            self.expected[account_id] += amount

    async def _debit(self, account_id: str, amount: int) -> None:
        request = pb.DebitRequest(
            account_id=account_id, amount=amount, idempotency_key=self._key("debit")
        )
        answer = await self._call("debit", account_id, request)
        if answer is not None:
            self.expected[account_id] -= amount

    async def _reserve(self, account_id: str, amount: int) -> str | None:
        key = self._key("reserve")
        request = pb.ReserveRequest(
            account_id=account_id,
            amount=amount,
            idempotency_key=key,
            ttl_seconds=_RESERVATION_TTL_SECONDS,
            reservation_id=key,
        )
        if await self._call("reserve", account_id, request) is None:
            return None
        self.open_reservations[key] = (account_id, amount)
        return key

    async def _commit(self, reservation_id: str) -> None:
        account_id, amount = self.open_reservations[reservation_id]
        committed = self.rng.choice((0, self.rng.randint(1, amount)))
        request = pb.CommitReservationRequest(
            reservation_id=reservation_id, amount=committed, idempotency_key=self._key("commit")
        )
        if await self._call("commit", account_id, request) is not None:
            del self.open_reservations[reservation_id]
            self.expected[account_id] -= committed or amount

    async def _release(self, reservation_id: str) -> None:
        account_id, _ = self.open_reservations[reservation_id]
        request = pb.ReleaseReservationRequest(
            reservation_id=reservation_id, idempotency_key=self._key("release")
        )
        if await self._call("release", account_id, request) is not None:
            del self.open_reservations[reservation_id]

    async def _call(self, kind: str, account_id: str, request: Any) -> Any | None:
        """The answer of an applied call; None if it was refused or its outcome is unknown."""
        answer, code = await self._attempt(kind, request)
        key = getattr(request, "idempotency_key", "")
        if code == "UNANSWERED":
            self.unresolved.append(_Pending(kind, account_id, request))
            return None
        if code is not None:
            if key:
                self.refused[key] = code
            if code not in EXPECTED_REFUSALS:
                self.violations.append(f"{kind} {key}: refused with {code}")
            return None
        self.ops[kind] += 1
        if key:
            self.applied[key] = account_id
        self._check_figures(kind, key, answer)
        if key and self.rng.random() < self.replay_share:
            await self._replay(kind, request, answer)
        return answer

    async def _attempt(self, kind: str, request: Any) -> tuple[Any | None, str | None]:
        method: Any = {
            "open": self.stub.EnsureAccount,
            "credit": self.stub.Credit,
            "debit": self.stub.Debit,
            "reserve": self.stub.Reserve,
            "commit": self.stub.CommitReservation,
            "release": self.stub.ReleaseReservation,
        }[kind]
        metadata = (("authorization", f"Bearer {self.token}"),)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.answer_timeout
        delay = 0.1
        while True:
            try:
                answer = await method(request, metadata=metadata, timeout=3)
                self.answers["OK"] += 1
                return answer, None
            except aio.AioRpcError as exc:
                error = BalanceCallError.from_rpc(exc)
                self.answers[error.status.name] += 1
                if error.status not in RETRYABLE:
                    return None, error.code
            if loop.time() + delay > deadline:
                return None, "UNANSWERED"
            await asyncio.sleep(delay)
            delay = min(2.0, delay * 2)

    async def _replay(self, kind: str, request: Any, first: Any) -> None:
        again, code = await self._attempt(kind, request)
        if again is None:
            self.violations.append(f"{kind} {request.idempotency_key}: replay answered {code}")
        elif not again.replayed or (again.balance, again.version) != (first.balance, first.version):
            self.violations.append(
                f"{kind} {request.idempotency_key}: replay gave balance {again.balance} "
                f"v{again.version} (replayed={again.replayed}), first {first.balance} "
                f"v{first.version}"
            )

    def _check_figures(self, kind: str, key: str, answer: Any) -> None:
        if min(answer.balance, answer.reserved, answer.available) < 0:
            self.violations.append(
                f"{kind} {key}: balance {answer.balance}, reserved {answer.reserved}, "
                f"available {answer.available}"
            )

    async def finish(self) -> None:
        """After the faults: learn the outcome of hidden calls, then release what is held."""
        pending, self.unresolved = self.unresolved, []
        for call in pending:
            if call.kind == "reserve":
                if await self._call("reserve", call.account_id, call.request) is not None:
                    self.open_reservations[call.request.reservation_id] = (
                        call.account_id,
                        call.request.amount,
                    )
            elif call.kind == "commit":
                reservation_id = call.request.reservation_id
                if await self._call("commit", call.account_id, call.request) is not None:
                    _, amount = self.open_reservations.pop(reservation_id)
                    self.expected[call.account_id] -= call.request.amount or amount
            elif await self._call(call.kind, call.account_id, call.request) is not None:
                sign = {"credit": 1, "debit": -1}.get(call.kind, 0)
                self.expected[call.account_id] += sign * getattr(call.request, "amount", 0)
                if call.kind == "release":
                    self.open_reservations.pop(call.request.reservation_id, None)
        for reservation_id in list(self.open_reservations):
            await self._release(reservation_id)

    @property
    def acknowledged(self) -> int:
        """Calls that were applied and answered."""
        return sum(self.ops.values())

"""The poker table's money flows: two-phase buy-in, cash-out, and hand settlement via pots."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from pydantic_settings import BaseSettings

from clients.balance.client import BalanceCallError, BalanceClient, idempotency_key
from protos.balance.v1 import balance_pb2 as pb

# One JSON line per permissive decision: the reconciliation job's input.
reconciliation_log = logging.getLogger("clients.balance.reconciliation")


class PokerBalanceSettings(BaseSettings):
    """How the poker service reaches the balance service."""

    balance_grpc_address: str = "127.0.0.1:50051"
    # The seed's rollout flag: while the balance service is unreachable, let players sit down
    # and cash out anyway, and log each such decision for reconciliation.
    balance_permissive_fallback: bool = False
    balance_reservation_ttl_seconds: int = 120


@dataclass(frozen=True)
class BuyInResult:
    """How a buy-in ended: seated or not, committed or permissive, and the resulting figures."""

    seated: bool
    reservation_id: str
    status: str
    balance: int | None
    available: int | None
    permissive: bool = False


class PokerBalance:
    """Money flows of the poker tables over one BalanceClient."""

    def __init__(
        self,
        client: BalanceClient,
        *,
        permissive_fallback: bool = False,
        ttl_seconds: int = 120,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.client = client
        self.permissive_fallback = permissive_fallback
        self.ttl_seconds = ttl_seconds
        self.clock_ms = clock_ms

    async def buy_in(
        self,
        table_id: str,
        user_id: str,
        amount: int,
        take_seat: Callable[[], Awaitable[bool]],
    ) -> BuyInResult:
        """Reserve the chips, try to seat the player, then commit; release if seating fails."""
        at = self.clock_ms()
        try:
            reserved = await self.client.reserve(
                pb.ReserveRequest(
                    account_id=user_id,
                    amount=amount,
                    ttl_seconds=self.ttl_seconds,
                    idempotency_key=idempotency_key("buy-in", table_id, user_id, at),
                    source="BUY_IN",
                    reference=table_id,
                )
            )
        except BalanceCallError as error:
            if not (error.unreachable and self.permissive_fallback):
                raise
            self._permissive("buy-in", table_id, user_id, amount, at, error)
            seated = await take_seat()
            return BuyInResult(seated, "", "PERMISSIVE", None, None, permissive=True)
        reservation_id = reserved.reservation.reservation_id
        try:
            seated = await take_seat()
        except BaseException:
            await self._release(table_id, user_id, reservation_id, at)
            raise
        if not seated:
            released = await self._release(table_id, user_id, reservation_id, at)
            return BuyInResult(
                False,
                reservation_id,
                released.reservation.status,
                released.balance,
                released.available,
            )
        committed = await self.client.commit(
            pb.CommitReservationRequest(
                reservation_id=reservation_id,
                idempotency_key=idempotency_key("buy-in-commit", table_id, user_id, at),
            )
        )
        return BuyInResult(
            True,
            reservation_id,
            committed.reservation.status,
            committed.balance,
            committed.available,
        )

    async def cash_out(
        self, table_id: str, user_id: str, amount: int
    ) -> pb.MutationResponse | None:
        """Credit the chips a player leaves the table with; None if done permissively."""
        at = self.clock_ms()
        try:
            return await self.client.credit(
                pb.CreditRequest(
                    account_id=user_id,
                    amount=amount,
                    idempotency_key=idempotency_key("cash-out", table_id, user_id, at),
                    source="CASH_OUT",
                    reference=table_id,
                )
            )
        except BalanceCallError as error:
            if not (error.unreachable and self.permissive_fallback):
                raise
            self._permissive("cash-out", table_id, user_id, amount, at, error)
            return None

    async def open_hand(self, table_id: str, hand_id: str) -> pb.PotResponse:
        """Open the hand's pot (idempotent)."""
        return await self.client.call(
            self.client.stub.CreatePot, pb.CreatePotRequest(table_id=table_id, hand_id=hand_id)
        )

    async def bet(
        self, table_id: str, hand_id: str, user_id: str, amount: int, *, sequence: int
    ) -> pb.ContributionResponse:
        """Move a player's bet into the pot; `sequence` numbers the player's bets in the hand."""
        return await self.client.call(
            self.client.stub.RecordContribution,
            pb.RecordContributionRequest(
                table_id=table_id,
                hand_id=hand_id,
                account_id=user_id,
                amount=amount,
                idempotency_key=idempotency_key(f"bet-{hand_id}", table_id, user_id, sequence),
            ),
        )

    async def settle_hand(
        self,
        table_id: str,
        hand_id: str,
        side_pots: Sequence[tuple[int, Sequence[str]]],
        rake: int = 0,
    ) -> pb.SettlePotResponse:
        """Pay each side pot (amount, winners) and the rake, all or nothing."""
        return await self.client.call(
            self.client.stub.SettlePot,
            pb.SettlePotRequest(
                table_id=table_id,
                hand_id=hand_id,
                side_pots=[pb.SidePot(amount=a, winner_ids=list(w)) for a, w in side_pots],
                rake=rake,
                idempotency_key=idempotency_key("settle", table_id, hand_id, 0),
            ),
        )

    async def _release(
        self, table_id: str, user_id: str, reservation_id: str, at: int
    ) -> pb.ReservationResponse:
        return await self.client.release(
            pb.ReleaseReservationRequest(
                reservation_id=reservation_id,
                idempotency_key=idempotency_key("buy-in-release", table_id, user_id, at),
            )
        )

    def _permissive(
        self,
        operation: str,
        table_id: str,
        user_id: str,
        amount: int,
        at: int,
        error: BalanceCallError,
    ) -> None:
        record: Mapping[str, object] = {
            "event": "permissive_fallback",
            "operation": operation,
            "table_id": table_id,
            "user_id": user_id,
            "amount": amount,
            "idempotency_key": idempotency_key(operation, table_id, user_id, at),
            "at_ms": at,
            "error": error.code,
        }
        reconciliation_log.warning(json.dumps(record, sort_keys=True))

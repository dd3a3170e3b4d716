"""A poker table's money in the balance service: each chip counted once, in one place.

A stack is the balance of its seat account (`domain.game.money.seat_account`), never a second
number on top of the wallet:

- buy-in: reserve in the wallet, then commit the reservation INTO the seat account (one
  script moves the chips, so wallets + seats + pots + house stays the supply); a failed
  commit releases the reservation;
- a bet: a contribution from the seat account to the hand's pot;
- settlement: the pot pays each winner's seat account (odd chips as the engine decided, one
  side pot per payee) and the rake to the house;
- leaving: reserve the whole stack in the seat account and commit it into the wallet.

Every call carries an idempotency key derived from table, sitting, hand and event number, so
a retried activity moves nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clients.balance.client import BalanceCallError, BalanceClient
from domain.game.money import HOUSE_ACCOUNT, buy_in_key, cash_out_key, seat_account, settle_key
from protos.balance.v1 import balance_pb2 as pb

RESERVATION_TTL_SECONDS = 120


@dataclass(frozen=True)
class Move:
    """One payee's chips out of a pot."""

    user_id: str
    amount: int


class TableMoney:
    """The table's money moves over one BalanceClient (a service token)."""

    def __init__(self, client: BalanceClient) -> None:
        self.client = client

    async def buy_in(self, table_id: str, user_id: str, amount: int, sitting: int) -> int:
        """Wallet -> seat account; returns the seat account's balance."""
        key = buy_in_key(table_id, user_id, sitting)
        await self.client.call(
            self.client.stub.EnsureAccount, pb.EnsureAccountRequest(account_id=user_id)
        )
        await self.client.reserve(
            pb.ReserveRequest(
                account_id=user_id,
                amount=amount,
                idempotency_key=f"{key}-reserve",
                ttl_seconds=RESERVATION_TTL_SECONDS,
                reservation_id=key,
                source="BUY_IN",
                reference=table_id,
            )
        )
        try:
            await self.client.commit(
                pb.CommitReservationRequest(
                    reservation_id=key,
                    amount=amount,
                    idempotency_key=f"{key}-commit",
                    to_account_id=seat_account(table_id, user_id),
                    source="BUY_IN",
                )
            )
        except BalanceCallError as exc:
            if exc.unreachable:
                raise  # the outcome is unknown: the retry with the same keys finds out
            await self.client.release(
                pb.ReleaseReservationRequest(reservation_id=key, idempotency_key=f"{key}-release")
            )
            raise
        seat = await self.client.get_balance(seat_account(table_id, user_id))
        return int(seat.balance)

    async def cash_out(self, table_id: str, user_id: str, amount: int, sitting: int) -> None:
        """Seat account -> wallet, the whole `amount` in one step."""
        key = cash_out_key(table_id, user_id, sitting)
        await self.client.reserve(
            pb.ReserveRequest(
                account_id=seat_account(table_id, user_id),
                amount=amount,
                idempotency_key=f"{key}-reserve",
                ttl_seconds=RESERVATION_TTL_SECONDS,
                reservation_id=key,
                source="CASH_OUT",
                reference=table_id,
            )
        )
        await self.client.commit(
            pb.CommitReservationRequest(
                reservation_id=key,
                amount=amount,
                idempotency_key=f"{key}-commit",
                to_account_id=user_id,
                source="CASH_OUT",
            )
        )

    async def open_pot(self, table_id: str, hand_id: str) -> None:
        """The hand's pot (created once)."""
        await self.client.call(
            self.client.stub.CreatePot, pb.CreatePotRequest(table_id=table_id, hand_id=hand_id)
        )

    async def contribute(
        self, table_id: str, hand_id: str, user_id: str, amount: int, key: str
    ) -> None:
        """Chips from the seat account into the hand's pot."""
        await self.client.call(
            self.client.stub.RecordContribution,
            pb.RecordContributionRequest(
                table_id=table_id,
                hand_id=hand_id,
                account_id=seat_account(table_id, user_id),
                amount=amount,
                idempotency_key=key,
            ),
        )

    async def settle(self, table_id: str, hand_id: str, payouts: Sequence[Move], rake: int) -> None:
        """Pay the pot out: one side pot per payee (the engine split it), rake to the house."""
        await self.client.call(
            self.client.stub.SettlePot,
            pb.SettlePotRequest(
                table_id=table_id,
                hand_id=hand_id,
                side_pots=[
                    pb.SidePot(amount=m.amount, winner_ids=[seat_account(table_id, m.user_id)])
                    for m in payouts
                ],
                rake=rake,
                house_account_id=HOUSE_ACCOUNT,
                idempotency_key=settle_key(hand_id),
            ),
        )

"""Game activities: a table's money in the balance service, its events, its lobby line.

Each is idempotent under keys the workflow derived (table, sitting, hand, event number), so
Temporal may run one again after a crash without moving a chip or showing an event twice.
`GAME_BALANCE_MODE` is the seed's rollout flag: `off` never calls the balance service,
`dual` calls it and lets the game go on when it fails (each such decision is queued for the
reconciliation workflow), `required` refuses what the balance service refuses.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.game_reconciliation import RECONCILE_QUEUE
from clients.balance import BalanceCallError, Move, TableMoney
from domain.events.model import HAND_STREAM
from domain.game.lobby import TableDirectory
from domain.game.metrics import count_table_events
from domain.game.money import BalanceMode
from domain.gateway.channels import user_channel
from domain.gateway.tables import TableEventLog
from infra.faults import fault_point
from infra.redis import publish
from workflows.game.models import BuyInInput, CashOutInput, TableEffects

log = logging.getLogger(__name__)
LOBBY_CHANNEL = "lobby"


class GameActivities:
    """Side effects of the table workflows, over one balance client and one Redis."""

    def __init__(
        self,
        money: TableMoney,
        redis: aioredis.Redis,
        tables: TableEventLog,
        mode: BalanceMode = BalanceMode.REQUIRED,
    ) -> None:
        self._money = money
        self._redis = redis
        self._tables = tables
        self._directory = TableDirectory(redis)
        self._mode = mode

    async def _balance(
        self, what: str, call: Callable[[], Awaitable[object]], record: dict[str, Any]
    ) -> None:
        """One balance call under the rollout flag; business refusals end the activity."""
        if self._mode is BalanceMode.OFF:
            return
        try:
            await call()
            fault_point(f"after_effect:{what}")
        except BalanceCallError as exc:
            if self._mode is BalanceMode.DUAL and exc.unreachable:
                # The permissive decision: the game goes on; reconciliation settles it later.
                log.warning("balance unreachable during %s; queued for reconciliation", what)
                await self._redis.rpush(RECONCILE_QUEUE, json.dumps({"what": what, **record}))
                return
            if exc.unreachable:
                raise  # retried by Temporal with the same keys
            raise ApplicationError(
                exc.detail or exc.code, type=exc.code, non_retryable=True
            ) from None

    async def _record_result(self, ended: dict[str, Any]) -> None:
        """The hand's result for the event service and players' stats (`events:hands`).

        A retried activity may append it again; its `event_id` (the hand id) makes the
        consumer store it once.
        """
        result = {
            "type": "HAND_ENDED",
            "event_id": str(ended["hand_id"]),
            "table_id": str(ended["table_id"]),
            "hand_id": str(ended["hand_id"]),
            "players": sorted(ended["net"]),
            "winners": sorted(u for u, won in ended["payouts"].items() if won > 0),
            "net": ended["net"],
            "rake": ended["rake"],
            "at": datetime.now(UTC).isoformat(),
        }
        await self._redis.xadd(
            HAND_STREAM, {"data": json.dumps(result)}, maxlen=100_000, approximate=True
        )

    @activity.defn
    async def buy_in(self, request: BuyInInput) -> None:
        """Wallet -> seat account; INSUFFICIENT_FUNDS and other refusals are not retried."""
        r = request
        buy_in = self._money.buy_in
        await self._balance(
            "buy_in", lambda: buy_in(r.table_id, r.user_id, r.amount, r.sitting), asdict(r)
        )

    @activity.defn
    async def cash_out(self, request: CashOutInput) -> None:
        """Seat account -> wallet."""
        r = request
        cash_out = self._money.cash_out
        await self._balance(
            "cash_out", lambda: cash_out(r.table_id, r.user_id, r.amount, r.sitting), asdict(r)
        )

    @activity.defn
    async def apply_effects(self, effects: TableEffects) -> None:
        """Chips, then public events, then private ones, then the lobby, in that order."""
        table, hand = effects.table_id, effects.hand_id
        if hand is not None:
            if effects.open_pot:
                await self._balance(
                    "open_pot",
                    lambda: self._money.open_pot(table, hand),
                    {"table_id": table, "hand_id": hand},
                )
            for c in effects.contributions:
                await self._balance(
                    "contribute",
                    lambda c=c: self._money.contribute(table, hand, c.user_id, c.amount, c.key),  # type: ignore[misc]
                    {
                        "table_id": table,
                        "hand_id": hand,
                        "user_id": c.user_id,
                        "amount": c.amount,
                        "key": c.key,
                    },
                )
            if effects.payouts is not None:
                payouts = [Move(p.user_id, p.amount) for p in effects.payouts]
                await self._balance(
                    "settle",
                    lambda: self._money.settle(table, hand, payouts, effects.rake),
                    {
                        "table_id": table,
                        "hand_id": hand,
                        "rake": effects.rake,
                        "payouts": [[m.user_id, m.amount] for m in payouts],
                    },
                )
        if effects.events:
            numbered = [(e.seq, e.data) for e in effects.events]
            ended = [e.data for e in effects.events if e.data.get("kind") == "hand.ended"]
            # The hand's result for the event service waits behind nothing the table shows.
            await asyncio.gather(
                self._tables.publish_numbered(table, numbered),
                *(self._record_result(data) for data in ended),
            )
        for private in effects.private:
            await publish(self._redis, user_channel(private.user_id), json.dumps(private.data))
        if effects.summary is not None and await self._directory.put(effects.summary):
            update = {"kind": "table.updated", **effects.summary}
            await publish(self._redis, LOBBY_CHANNEL, json.dumps(update))
        count_table_events(e.data for e in effects.events)

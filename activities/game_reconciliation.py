"""Settling the permissive decisions of a balance outage (GAME_BALANCE_MODE=dual).

While the balance service was unreachable, the game went on and queued each money move it
could not make in the Redis list `game:reconcile`, in order, with its idempotency key. This
activity makes them again, oldest first: a move already applied (its key known) changes
nothing, so running it twice, or after a crash halfway, moves no chip twice. A move the
balance service refuses (a buy-in the wallet could not pay after all) is parked in
`game:reconcile:refused` with its reason for a person to decide; an unreachable service stops
the batch, to be tried again on the next run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from temporalio import activity

from clients.balance import BalanceCallError, Move, TableMoney

log = logging.getLogger(__name__)
RECONCILE_QUEUE = "game:reconcile"
REFUSED_QUEUE = "game:reconcile:refused"


@dataclass
class ReconcileInput:
    """How many queued moves one run makes at most."""

    batch_size: int = 200


@dataclass
class ReconcileResult:
    """What one run did, and how many moves still wait."""

    applied: int
    refused: int
    remaining: int
    unreachable: bool


class Reconciliation:
    """Replays queued money moves through the balance service, each under its own key."""

    def __init__(self, money: TableMoney, redis: aioredis.Redis) -> None:
        self._money = money
        self._redis = redis

    async def _apply(self, move: dict[str, Any]) -> None:
        what, m = move["what"], self._money
        if what == "buy_in":
            await m.buy_in(move["table_id"], move["user_id"], move["amount"], move["sitting"])
        elif what == "cash_out":
            await m.cash_out(move["table_id"], move["user_id"], move["amount"], move["sitting"])
        elif what == "open_pot":
            await m.open_pot(move["table_id"], move["hand_id"])
        elif what == "contribute":
            await m.contribute(
                move["table_id"], move["hand_id"], move["user_id"], move["amount"], move["key"]
            )
        elif what == "settle":
            payouts = [Move(user, amount) for user, amount in move["payouts"]]
            await m.settle(move["table_id"], move["hand_id"], payouts, move["rake"])
        else:
            raise ValueError(f"unknown queued move {what!r}")

    @activity.defn
    async def reconcile_queued_moves(self, request: ReconcileInput) -> ReconcileResult:
        """Make up to `batch_size` queued moves, oldest first."""
        applied = refused = 0
        unreachable = False
        for _ in range(request.batch_size):
            found = await self._redis.lindex(RECONCILE_QUEUE, 0)
            if found is None:
                break
            raw = found.decode() if isinstance(found, bytes) else str(found)
            try:
                move = json.loads(raw)
                await self._apply(move)
                applied += 1
            except BalanceCallError as exc:
                if exc.unreachable:
                    unreachable = True
                    break
                refused += 1
                parked = {"move": raw, "code": exc.code, "detail": exc.detail}
                await self._redis.rpush(REFUSED_QUEUE, json.dumps(parked))
                log.error("reconciliation refused %s: %s %s", raw, exc.code, exc.detail)
            except (ValueError, KeyError, TypeError) as exc:
                refused += 1
                parked = {"move": raw, "code": "MALFORMED", "detail": str(exc)}
                await self._redis.rpush(REFUSED_QUEUE, json.dumps(parked))
            # Removed only once made (or parked): a crash before this line makes it again,
            # which its idempotency key turns into a no-op.
            await self._redis.lpop(RECONCILE_QUEUE)
        remaining = int(await self._redis.llen(RECONCILE_QUEUE))
        return ReconcileResult(applied, refused, remaining, unreachable)

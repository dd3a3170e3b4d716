"""The expiry sweep: due reservations end EXPIRED, their chips free again."""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis

from domain.balance import keys
from domain.balance.economy import count_closed
from domain.balance.events import BalanceChanges
from domain.balance.holders import ReservationHolders
from domain.balance.scripts import REDIS_DOWN, BalanceScripts, ScriptRequest, as_list, text
from domain.balance.types import AccountBalance, ExpiryBatch, ReservationStatus
from domain.errors import Unavailable


class ReservationExpiry:
    """Expires the due reservations of one Redis, at a time the caller may choose."""

    def __init__(
        self,
        scripts: BalanceScripts,
        redis: aioredis.Redis,
        changes: BalanceChanges,
        holders: ReservationHolders,
    ) -> None:
        self.scripts = scripts
        self.redis = redis
        self.changes = changes
        self.holders = holders

    async def expire_due(self, limit: int = 500, now_ms: int | None = None) -> ExpiryBatch:
        """Expire up to `limit` reservations whose time has passed (at `now_ms` if given).

        The due reservations and their holders are read first, so the script is sent every key
        it touches; the script expires only those still PENDING.
        """
        try:
            now = now_ms if now_ms is not None else self.scripts.clock()
            if now is None:
                seconds, micros = await self.redis.time()
                now = int(seconds) * 1000 + int(micros) // 1000
            # Without scores, the reply is plain members.
            members: list[Any] = await self.redis.zrangebyscore(
                keys.RESERVATION_EXPIRY, "-inf", now, start=0, num=limit
            )
            due = [text(member) for member in members]
            raws = await self.redis.mget([keys.reservation(r) for r in due]) if due else []
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        holders: dict[str, None] = {}
        pending = 0
        for reservation_id, raw in zip(due, raws, strict=True):
            if raw is None:
                continue
            found = json.loads(raw)
            self.holders.learn(reservation_id, str(found["account_id"]))
            if found["status"] == ReservationStatus.PENDING:
                holders[str(found["account_id"])] = None
                pending += 1
        request = ScriptRequest(
            "expire_reservations",
            due,
            keys=keys.for_expiry(due, list(holders)),
            accounts=list(holders),
            transactions=pending,
        )
        fixed = now
        answer = await self.scripts.with_clock(lambda: fixed).run(request)
        accounts = [AccountBalance.from_json(a) for a in as_list(answer.body["accounts"])]
        for account in accounts:
            self.changes.applied(account, "EXPIRE", 0)
        expired = [str(i) for i in as_list(answer.body["expired"])]
        count_closed(ReservationStatus.EXPIRED, len(expired))
        return ExpiryBatch(expired, accounts, int(answer.body["remaining"]))

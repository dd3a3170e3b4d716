"""The expiry sweep: due reservations end EXPIRED, their chips free again."""

from __future__ import annotations

import json

from domain.balance import keys, script_keys
from domain.balance.economy import count_closed
from domain.balance.events import BalanceChanges
from domain.balance.holders import ReservationHolders
from domain.balance.replies import as_list, text
from domain.balance.requests import ScriptRequest
from domain.balance.scripts import REDIS_DOWN, BalanceScripts
from domain.balance.slots import EXPIRY, per_slot
from domain.balance.types import AccountBalance, ExpiryBatch, ReservationStatus
from domain.errors import Unavailable
from infra.redis import RedisClient


class ReservationExpiry:
    """Expires the due reservations of one Redis, at a time the caller may choose."""

    def __init__(
        self,
        scripts: BalanceScripts,
        redis: RedisClient,
        changes: BalanceChanges,
        holders: ReservationHolders,
    ) -> None:
        self.scripts = scripts
        self.redis = redis
        self.changes = changes
        self.holders = holders

    async def expire_due(self, limit: int = 500, now_ms: int | None = None) -> ExpiryBatch:
        """Expire up to `limit` reservations whose time has passed (at `now_ms` if given).

        Each slot keeps its own expiry index: the due members of every listed slot are read in
        one round trip, then each slot with any gets one script, sent every key it touches; the
        script expires only those still PENDING.
        """
        try:
            now = now_ms if now_ms is not None else self.scripts.clock()
            if now is None:
                seconds, micros = await self.redis.time()
                now = int(seconds) * 1000 + int(micros) // 1000
            due_by_slot = await per_slot(
                self.redis, "ZRANGEBYSCORE", EXPIRY, "-inf", now, "LIMIT", 0, limit
            )
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        expired: list[str] = []
        changed: list[AccountBalance] = []
        remaining = 0
        for slot, members in due_by_slot.items():
            due = [text(member) for member in members][: max(0, limit - len(expired))]
            if not due:
                continue
            batch = await self._expire_slot(slot, due, now)
            expired += batch.expired
            changed += batch.accounts
            remaining += batch.remaining
        count_closed(ReservationStatus.EXPIRED, len(expired))
        return ExpiryBatch(expired, sorted(changed, key=lambda a: a.account_id), remaining)

    async def _expire_slot(self, slot: int, members: list[str], now: int) -> ExpiryBatch:
        due = [_split(member) for member in members]
        try:
            raws = await self.redis.mget([keys.reservation(h, r) for h, r in due])
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        holders: dict[str, None] = {}
        pending = 0
        for (holder, reservation_id), raw in zip(due, raws, strict=True):
            self.holders.learn(reservation_id, holder)
            if raw is not None and json.loads(raw)["status"] == ReservationStatus.PENDING:
                holders[holder] = None
                pending += 1
        request = ScriptRequest(
            "expire_reservations",
            members,
            keys.slot_tag(slot),
            keys=script_keys.for_expiry(slot, due, list(holders)),
            accounts=list(holders),
            transactions=pending,
        )
        fixed = now
        answer = await self.scripts.with_clock(lambda: fixed).run(request)
        accounts = [AccountBalance.from_json(a) for a in as_list(answer.body["accounts"])]
        for account in accounts:
            self.changes.applied(account, "EXPIRE", 0)
        expired = [str(i) for i in as_list(answer.body["expired"])]
        return ExpiryBatch(expired, accounts, int(answer.body["remaining"]))


def _split(member: str) -> tuple[str, str]:
    """An expiry index member `holder/id` as (holder, id)."""
    holder, _, reservation_id = member.partition("/")
    return holder, reservation_id

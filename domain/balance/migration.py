"""`saga balance migrate-keys`: data of the layout before hash slots, moved into keys.py's.

Before, transactions, reservations and idempotency records were tagged by their own ids, seat
accounts by their own id, and four indexes were global keys. This moves each into its home's
slot, builds the per-slot indexes and the slot directory, and deletes the old keys. Run it on
the one Redis that holds the data, with the balance service stopped; a second run finds
nothing to move. Nothing is computed again: ledgers, balances and answers move as they are.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from domain.balance import keys

OLD_ACCOUNT_IDS = "balance:accounts:ids"
OLD_EXPIRY = "balance:reservations:expiry"
OLD_ACTIVE_POTS = "balance:pots:active"
OLD_ECONOMY = "balance:economy"
# Old per-account names: the account id as the only tag, nothing after it.
_ACCOUNT_KINDS = (
    "accounts",
    "transactions:by-account",
    "reservations:by-account",
    "ledger",
    "ledger:latest-checksum",
    "ledger:checkpoint",
)
_OLD_TRANSACTION = re.compile(r"^balance:transactions:\{([^}]+)\}$")
_OLD_RESERVATION = re.compile(r"^balance:reservations:\{([^}]+)\}$")
_OLD_IDEMPOTENCY = re.compile(r"^balance:transactions:idempotency:\{(.+)\}$")
# The old economy moves into the counters of slot 0: only the sum over slots means anything.
_ECONOMY_SLOT = 0


@dataclass
class MigrationReport:
    """What moved, by kind, and what could not (idempotency records of refusals)."""

    moved: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        """One line per kind, for the command's output."""
        if not self.moved and not self.dropped:
            return ["nothing to migrate: the data is in the slot layout already"]
        out = [f"moved {count} {kind}" for kind, count in sorted(self.moved.items())]
        out += [f"dropped {count} {kind}" for kind, count in sorted(self.dropped.items())]
        return out


async def migrate_keys(redis: aioredis.Redis) -> MigrationReport:
    """Move every key of the old layout into the slot layout; safe to run again."""
    report = MigrationReport()
    slots: set[int] = set()
    for raw in await redis.smembers(OLD_ACCOUNT_IDS):
        account_id = _text(raw)
        for kind in _ACCOUNT_KINDS:
            old, new = f"balance:{kind}:{{{account_id}}}", _new_account_key(kind, account_id)
            if old != new and await redis.exists(old):
                await redis.rename(old, new)
                report.moved["seat account keys"] += 1
        await redis.sadd(keys.account_ids(keys.home(account_id)), account_id)
        slots.add(keys.slot_of(keys.home(account_id)))
        report.moved["account ids"] += 1
    holders: dict[str, str] = {}
    async for raw_key in redis.scan_iter(match="balance:*", count=1000):
        key = _text(raw_key)
        if found := _OLD_TRANSACTION.match(key):
            value = await redis.get(key)
            if value is not None:
                account_id = str(json.loads(value)["account_id"])
                await redis.rename(key, keys.transaction(keys.home(account_id), found.group(1)))
                report.moved["transactions"] += 1
        elif found := _OLD_RESERVATION.match(key):
            value = await redis.get(key)
            if value is not None:
                reservation_id, holder = found.group(1), str(json.loads(value)["account_id"])
                await redis.set(keys.reservation_holder(reservation_id), holder)
                await redis.rename(key, keys.reservation(holder, reservation_id))
                holders[reservation_id] = holder
                report.moved["reservations"] += 1
        elif found := _OLD_IDEMPOTENCY.match(key):
            await _move_answer(redis, key, found.group(1), report)
    expiring: list[Any] = await redis.zrange(OLD_EXPIRY, 0, -1, withscores=True)
    for member, score in expiring:
        reservation_id = _text(member)
        holder = holders.get(reservation_id) or _text(
            await redis.get(keys.reservation_holder(reservation_id)) or b""
        )
        if holder:
            await redis.zadd(
                keys.reservation_expiry(keys.home(holder)),
                {keys.expiry_member(holder, reservation_id): score},
            )
            slots.add(keys.slot_of(keys.home(holder)))
            report.moved["expiry entries"] += 1
    for raw in await redis.smembers(OLD_ACTIVE_POTS):
        table_id = _text(raw).split(":", 1)[0]
        await redis.sadd(keys.active_pots(table_id), _text(raw))
        slots.add(keys.slot_of(table_id))
        report.moved["open pots"] += 1
    economy = await redis.hgetall(OLD_ECONOMY)
    if economy:
        into = keys.economy(keys.slot_tag(_ECONOMY_SLOT))
        for name, value in economy.items():
            await redis.hincrby(into, _text(name), int(value))
        slots.add(_ECONOMY_SLOT)
        report.moved["economy counters"] += len(economy)
    if slots:
        await redis.sadd(keys.SLOTS, *sorted(slots))
    await redis.delete(OLD_ACCOUNT_IDS, OLD_EXPIRY, OLD_ACTIVE_POTS, OLD_ECONOMY)
    return report


def _new_account_key(kind: str, account_id: str) -> str:
    return {
        "accounts": keys.account,
        "transactions:by-account": keys.account_transactions,
        "reservations:by-account": keys.account_reservations,
        "ledger": keys.ledger,
        "ledger:latest-checksum": keys.ledger_head,
        "ledger:checkpoint": keys.ledger_checkpoint,
    }[kind](account_id)


async def _move_answer(redis: aioredis.Redis, key: str, idem: str, report: MigrationReport) -> None:
    """An idempotency record goes to the home its request now runs in, with its time to live."""
    stored = await redis.get(key)
    if stored is None:
        return
    body = json.loads(_text(stored).split("\n", 1)[1])
    tag = _home_of_answer(body)
    if tag is None:
        # A refusal names no account: it changed nothing, so a retry is simply decided again.
        await redis.delete(key)
        report.dropped["idempotency records of refusals"] += 1
        return
    await redis.rename(key, keys.idempotency(tag, idem))
    report.moved["idempotency records"] += 1


def _home_of_answer(body: dict[str, Any]) -> str | None:
    """Where the request that got `body` runs now (the rules of keys.py and the services)."""
    pot, account = body.get("pot"), body.get("account")
    if isinstance(pot, dict) and isinstance(account, dict):  # a contribution
        table_id, contributor = str(pot["table_id"]), str(account["account_id"])
        if keys.slot_of(keys.home(contributor)) == keys.slot_of(table_id):
            return table_id
        return keys.home(contributor)
    if isinstance(pot, dict):  # a settlement or a cancellation
        return str(pot["table_id"])
    if isinstance(account, dict):  # a credit, debit, reserve, commit or release
        return keys.home(str(account["account_id"]))
    return None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

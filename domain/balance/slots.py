"""The hash slots that hold balance data, and reads that sum or page over all of them.

What was one global index is one key per slot (keys.py); `balance:slots` lists the slots in
use. A script's slot is listed before its first call from a process (`SlotDirectory.ensure`),
so a reader that walks the listed slots misses nothing a script wrote.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain.balance import keys
from infra.redis import RedisClient

# An account page's cursor: the slot in the high bits, the slot's SSCAN cursor in the low.
_INNER_BITS = 40


# A process lists a slot again this often while it writes there: a listing lost with a failed
# master (it is not waited for) comes back within it.
RELIST_SECONDS = 60.0


class SlotDirectory:
    """Lists slots in `balance:slots`, each once per process and minute."""

    def __init__(self, redis: RedisClient) -> None:
        self.redis = redis
        self._listed: set[int] = set()
        self._since = time.monotonic()

    async def ensure(self, tags: Iterable[str]) -> None:
        """List the slots of homes `tags` unless this process has lately."""
        if time.monotonic() - self._since > RELIST_SECONDS:
            self._listed.clear()
            self._since = time.monotonic()
        slots = {keys.slot_of(tag) for tag in tags} - self._listed
        if slots:
            await self.redis.sadd(keys.SLOTS, *sorted(slots))
            self._listed |= slots


async def listed_slots(redis: RedisClient) -> list[int]:
    """The slots that hold balance data, in order."""
    return sorted(int(s) for s in await redis.smembers(keys.SLOTS))


async def per_slot(redis: RedisClient, command: str, key_of: int, *args: Any) -> dict[int, Any]:
    """`command key *args` on one per-slot index (position `key_of` in keys.slot_keys) of every
    listed slot, in one pipelined round trip; the replies by slot."""
    slots = await listed_slots(redis)
    if not slots:
        return {}
    pipe = redis.pipeline(transaction=False)
    for slot in slots:
        pipe.execute_command(command, keys.slot_keys(slot)[key_of], *args)
    replies = await pipe.execute()
    return dict(zip(slots, replies, strict=True))


ACCOUNT_IDS, EXPIRY, ACTIVE_POTS, ECONOMY, OUTBOX = range(5)


async def economy_totals(redis: RedisClient) -> tuple[int, int]:
    """The chip supply and the volume moved, summed over the slots' economy counters."""
    replies = await per_slot(redis, "HMGET", ECONOMY, "supply", "volume")
    supply = sum(int(r[0] or 0) for r in replies.values())
    volume = sum(int(r[1] or 0) for r in replies.values())
    return supply, volume


async def account_page(
    redis: RedisClient, cursor: int = 0, count: int = 500
) -> tuple[int, list[str]]:
    """One page of account ids over every slot, and the cursor of the next (0 when done)."""
    slot, inner = cursor >> _INNER_BITS, cursor & ((1 << _INNER_BITS) - 1)
    listed = [s for s in await listed_slots(redis) if s >= slot]
    for position, current in enumerate(listed):
        start = inner if current == slot else 0
        next_inner, ids = await redis.sscan(
            keys.slot_keys(current)[ACCOUNT_IDS], start, count=count
        )
        found = sorted(i.decode() if isinstance(i, bytes) else str(i) for i in ids)
        if int(next_inner) != 0:
            return (current << _INNER_BITS) | int(next_inner), found
        later = listed[position + 1 :]
        if found:
            return (later[0] << _INNER_BITS if later else 0), found
    return 0, []


@dataclass(frozen=True)
class SupplyReport:
    """The supply the scripts counted, against what accounts, open pots and the outboxes hold.

    `in_flight` are chips owed by one slot to another and not delivered yet: taken from one
    account, not yet in the other. At rest, `counted == held + in_flight`.
    """

    counted: int
    held: int
    in_flight: int

    @property
    def balanced(self) -> bool:
        """Whether every chip counted is somewhere."""
        return self.counted == self.held + self.in_flight


async def supply_report(redis: RedisClient) -> SupplyReport:
    """Sum the economy counters, every account, every open pot and every undelivered credit."""
    counted, _ = await economy_totals(redis)
    held = 0
    ids = await per_slot(redis, "SMEMBERS", ACCOUNT_IDS)
    for members in ids.values():
        for member in members:
            account_id = member.decode() if isinstance(member, bytes) else str(member)
            held += int(await redis.hget(keys.account(account_id), "balance") or 0)
    for members in (await per_slot(redis, "SMEMBERS", ACTIVE_POTS)).values():
        for member in members:
            table_id, hand_id = (
                member.decode() if isinstance(member, bytes) else str(member)
            ).split(":", 1)
            raw = await redis.get(keys.pot(table_id, hand_id))
            held += int(json.loads(raw)["total"]) if raw else 0
    in_flight = 0
    for entries in (await per_slot(redis, "HGETALL", OUTBOX)).values():
        for raw in entries.values():
            credit = json.loads(raw)
            mark = keys.idempotency(
                credit["table_id"] if credit["kind"] == "contribution" else keys.home(credit["to"]),
                delivery_key(str(credit["id"])),
            )
            if not await redis.exists(mark):
                in_flight += int(credit["amount"])
    return SupplyReport(counted, held, in_flight)


def delivery_key(credit_id: str) -> str:
    """The idempotency key a credit is delivered under (its delivery mark)."""
    return f"delivery:{credit_id}"

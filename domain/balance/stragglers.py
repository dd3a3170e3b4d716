"""Credits owed between slots that a failed call left undelivered, delivered by a sweep.

A move between accounts of two slots is two single-slot steps: the source's script takes the
chips and writes what it owes into its slot's outbox, in one atomic call; the delivery script
adds them at the destination, once (its mark is an idempotency record). The caller delivers
before it answers. If it crashes or loses Redis in between, the entry waits in the outbox,
counted in flight by the supply check, until this sweep (run by the expiry workflow's
activity) or a retry of the same request delivers it.
"""

from __future__ import annotations

import json
import time

from domain.balance import keys
from domain.balance.scripts import REDIS_DOWN, BalanceScripts
from domain.balance.slots import OUTBOX, per_slot
from domain.errors import Unavailable

# Younger entries belong to calls that are still delivering them.
MIN_AGE_MS = 5_000


async def deliver_stragglers(
    scripts: BalanceScripts, min_age_ms: int = MIN_AGE_MS, now_ms: int | None = None
) -> int:
    """Deliver every outbox entry older than `min_age_ms`; how many were delivered."""
    try:
        by_slot = await per_slot(scripts.redis, "HGETALL", OUTBOX)
    except REDIS_DOWN as exc:
        raise Unavailable(f"Redis is unreachable: {exc}") from exc
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    delivered = 0
    for slot, entries in by_slot.items():
        owed = [json.loads(raw) for raw in entries.values()]
        due = sorted(
            (c for c in owed if now - int(c["created_at_ms"]) >= min_age_ms),
            key=lambda c: (int(c["created_at_ms"]), str(c["id"])),
        )
        if due:
            await scripts.deliver(keys.slot_tag(slot), due)
            delivered += len(due)
    return delivered

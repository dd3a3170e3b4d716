"""Order sagas that stopped moving: ledger entries neither final nor changed for a while.

No saga counter shows these (a saga that hangs never ends, so it is never counted), so the
order ledger is asked: every step, retry and status change of a saga touches its entry.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import asyncpg
from prometheus_client import Gauge

from domain.checkout.models import LedgerStatus
from infra.db.connection import Connection
from infra.telemetry import untraced

log = logging.getLogger(__name__)

# Longer than the saga's whole retry schedule (1 + 4 + 16 + 64 s) and its activity timeouts.
STUCK_AFTER = timedelta(minutes=10)
_FINAL = [status.value for status in LedgerStatus if status.is_final]

STUCK = Gauge(
    "saga_order_sagas_stuck",
    "Order sagas neither CONFIRMED nor FAILED whose ledger entry has not changed for 10 minutes",
)


async def count_stuck(conn: Connection, older_than: timedelta = STUCK_AFTER) -> int:
    """How many ledger entries are not final and unchanged for `older_than`."""
    found = await conn.fetchval(
        "SELECT count(*) FROM order_ledger "
        "WHERE status <> ALL($1::text[]) AND updated_at < now() - $2::interval",
        _FINAL,
        older_than,
    )
    return int(found)


async def watch_stuck_sagas(pool: asyncpg.Pool, every_seconds: float = 60.0) -> None:
    """Keep `saga_order_sagas_stuck` current until cancelled (the relay runs it)."""
    while True:
        try:
            # One query a minute serves no request: it stays out of every trace.
            with untraced():
                async with pool.acquire() as conn:
                    STUCK.set(await count_stuck(conn))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("counting stuck sagas failed: %s", exc)
        await asyncio.sleep(every_seconds)

"""`saga_order_sagas_stuck` counts sagas that stopped moving, and no others."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from domain.checkout.stuck import count_stuck


async def _entry(db: asyncpg.Pool, status: str, idle: timedelta) -> None:
    await db.execute(
        "INSERT INTO order_ledger (order_ledger_id, client_request_id, request_fingerprint, "
        "customer_id, status, total_cents, currency, payment_method, response_code, "
        "response_body, updated_at) VALUES "
        "($1, $2, 'f', 'c', $3, 100, 'USD', 'pm_card_visa', 202, '{}', now() - $4::interval)",
        uuid.uuid4(),
        uuid.uuid4().hex,
        status,
        idle,
    )


async def test_only_unfinished_sagas_idle_past_the_limit_are_stuck(db: asyncpg.Pool) -> None:
    await _entry(db, "INVENTORY_RESERVED", timedelta(minutes=30))  # stuck
    await _entry(db, "COMPENSATING", timedelta(minutes=11))  # stuck
    await _entry(db, "ORDER_CREATED", timedelta(minutes=2))  # still moving
    await _entry(db, "CONFIRMED", timedelta(hours=2))  # done
    await _entry(db, "FAILED", timedelta(hours=2))  # done
    await _entry(db, "PAYMENT_DECLINED", timedelta(hours=2))  # done at the edge
    async with db.acquire() as conn:
        assert await count_stuck(conn) == 2
        assert await count_stuck(conn, timedelta(minutes=1)) == 3

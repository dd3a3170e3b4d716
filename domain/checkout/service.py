"""The edge's POST /orders: idempotency, pricing, synchronous authorization, ledger + outbox."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

import asyncpg
import redis.asyncio as aioredis

from domain.checkout.announcer import announce
from domain.checkout.ledger import LedgerEntry, LedgerRepository, NewEntry
from domain.checkout.models import (
    AcceptedOrder,
    LedgerStatus,
    OrderRequest,
    Placement,
    StatusChange,
    price,
    workflow_id_for,
)
from domain.checkout.outbox import OutboxRepository
from domain.errors import DomainError, ErrorCode
from domain.inventory.models import merge_lines
from domain.inventory.repository import InventoryRepository
from domain.orders.models import OrderLine
from domain.payments.models import PaymentDeclined


class PaymentAuthorizer(Protocol):
    """Authorizes a payment synchronously; raises PaymentDeclined or PspUnavailable."""

    async def authorize(
        self, payment_method: str, amount_cents: int, currency: str, idempotency_key: str
    ) -> str: ...


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key was first used with another request body."""

    code = ErrorCode.IDEMPOTENCY_KEY_REUSED


class CheckoutService:
    """Accepts orders at the edge; the saga takes over once the outbox row is committed."""

    def __init__(
        self, pool: asyncpg.Pool, payments: PaymentAuthorizer, redis: aioredis.Redis
    ) -> None:
        self._pool = pool
        self._payments = payments
        self._redis = redis

    async def place_order(self, client_request_id: str, request: OrderRequest) -> Placement:
        """Answer the request once; the same key and body later get the same answer."""
        fingerprint = request.fingerprint()
        async with self._pool.acquire() as conn:
            earlier = await LedgerRepository(conn).by_client_request_id(client_request_id)
            if earlier is not None:
                return _replay(earlier, fingerprint)
            merged = merge_lines(request.lines)
            catalog = await InventoryRepository(conn).products([line.product_id for line in merged])
        lines = price(merged, {p.product_id: p.price_cents for p in catalog})
        order_ledger_id = uuid.uuid4()
        try:
            # Keyed on the Idempotency-Key, so concurrent twins share one authorization.
            authorization_id: str | None = await self._payments.authorize(
                request.payment_method,
                sum(line.line_total_cents for line in lines),
                request.currency,
                f"edge:{client_request_id}",
            )
            status = LedgerStatus.AUTHORIZED
        except PaymentDeclined as declined:
            authorization_id = declined.fields.get("authorization_id")
            status = LedgerStatus.PAYMENT_DECLINED
        entry = _entry(
            order_ledger_id,
            client_request_id,
            fingerprint,
            request,
            lines,
            status,
            authorization_id,
        )
        order = _saga_order(entry)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await LedgerRepository(conn).insert(entry)
                if order is not None:
                    await OutboxRepository(conn).enqueue(order)
        except asyncpg.UniqueViolationError:
            # A concurrent request with the same key committed first: answer as it did.
            async with self._pool.acquire() as conn:
                earlier = await LedgerRepository(conn).by_client_request_id(client_request_id)
            assert earlier is not None
            return _replay(earlier, fingerprint)
        await self._announce(entry)
        return entry.placement

    async def _announce(self, entry: NewEntry) -> None:
        change = StatusChange(
            str(entry.order_ledger_id), entry.customer_id, entry.status, None, datetime.now(UTC)
        )
        await announce(self._redis, change)


def _replay(earlier: LedgerEntry, fingerprint: str) -> Placement:
    if earlier.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with a different request",
            order_ledger_id=str(earlier.order_ledger_id),
        )
    return replace(earlier.placement, replayed=True)


def _entry(
    order_ledger_id: uuid.UUID,
    client_request_id: str,
    fingerprint: str,
    request: OrderRequest,
    lines: list[OrderLine],
    status: LedgerStatus,
    authorization_id: str | None,
) -> NewEntry:
    accepted = status == LedgerStatus.AUTHORIZED
    return NewEntry(
        order_ledger_id,
        client_request_id,
        fingerprint,
        request.customer_id,
        status,
        lines,
        request.currency,
        request.payment_method,
        authorization_id,
        workflow_id_for(order_ledger_id) if accepted else None,
    )


def _saga_order(entry: NewEntry) -> AcceptedOrder | None:
    """What the saga needs, or None for a declined order (no saga)."""
    if entry.status != LedgerStatus.AUTHORIZED:
        return None
    # Every authorization granted has an id (PaymentAuthorizer.authorize returns it).
    assert entry.authorization_id is not None
    return AcceptedOrder(
        str(entry.order_ledger_id),
        entry.customer_id,
        entry.lines,
        entry.total_cents,
        entry.currency,
        entry.authorization_id,
    )

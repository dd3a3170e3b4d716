"""The order ledger in PostgreSQL: what the edge accepted or declined, and each saga step."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from domain.checkout.models import Accepted, Declined, LedgerStatus, Placement, StatusChange
from domain.checkout.status_watch import ORDER_STATUS_CHANNEL
from domain.errors import NotFound
from domain.orders.models import OrderLine
from infra.db.connection import Connection


@dataclass(frozen=True)
class LedgerEntry:
    """One accepted (or declined) order as the edge recorded it."""

    order_ledger_id: uuid.UUID
    client_request_id: str
    request_fingerprint: str
    customer_id: str
    status: LedgerStatus
    total_cents: int
    currency: str
    payment_method: str
    authorization_id: str | None
    placement: Placement


@dataclass(frozen=True)
class NewEntry:
    """What the edge writes for one request."""

    order_ledger_id: uuid.UUID
    client_request_id: str
    request_fingerprint: str
    customer_id: str
    status: LedgerStatus
    lines: list[OrderLine]
    currency: str
    payment_method: str
    authorization_id: str | None
    workflow_id: str | None

    @property
    def total_cents(self) -> int:
        """Sum of the lines."""
        return sum(line.line_total_cents for line in self.lines)

    @property
    def placement(self) -> Placement:
        """What the edge answers for this entry, now and on every replay of its key."""
        if self.workflow_id is None:
            return Declined(self.order_ledger_id, self.total_cents)
        return Accepted(self.order_ledger_id, self.status, self.total_cents, self.workflow_id)


class LedgerRepository:
    """Ledger and ledger items through one connection, in the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def by_client_request_id(self, client_request_id: str) -> LedgerEntry | None:
        """The entry an Idempotency-Key produced, if any."""
        row = await self._conn.fetchrow(
            "SELECT order_ledger_id, client_request_id, request_fingerprint, customer_id, status, "
            "total_cents, currency, payment_method, authorization_id, response_code, "
            "response_body FROM order_ledger WHERE client_request_id = $1",
            client_request_id,
        )
        if row is None:
            return None
        return LedgerEntry(
            row["order_ledger_id"],
            row["client_request_id"],
            row["request_fingerprint"],
            row["customer_id"],
            LedgerStatus(row["status"]),
            row["total_cents"],
            row["currency"],
            row["payment_method"],
            row["authorization_id"],
            _stored_placement(json.loads(row["response_body"])),
        )

    async def insert(self, entry: NewEntry) -> None:
        """Write the entry, its placement and its items."""
        first_step = {
            "step": "authorize_payment",
            "outcome": "completed" if entry.status == LedgerStatus.AUTHORIZED else "declined",
            "status": entry.status.value,
        }
        await self._conn.execute(
            "INSERT INTO order_ledger (order_ledger_id, client_request_id, request_fingerprint, "
            "customer_id, status, total_cents, currency, payment_method, authorization_id, "
            "workflow_id, response_code, response_body, steps) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, "
            "jsonb_build_array($13::jsonb || jsonb_build_object('at', now())))",
            entry.order_ledger_id,
            entry.client_request_id,
            entry.request_fingerprint,
            entry.customer_id,
            entry.status.value,
            entry.total_cents,
            entry.currency,
            entry.payment_method,
            entry.authorization_id,
            entry.workflow_id,
            _LEGACY_RESPONSE_CODE[type(entry.placement)],
            json.dumps(_placement_json(entry.placement)),
            json.dumps(first_step),
        )
        await self._conn.execute(
            "INSERT INTO order_ledger_items (order_ledger_id, product_id, quantity, "
            "unit_price_cents) SELECT $1, * FROM unnest($2::text[], $3::int[], $4::bigint[])",
            entry.order_ledger_id,
            [line.product_id for line in entry.lines],
            [line.quantity for line in entry.lines],
            [line.unit_price_cents for line in entry.lines],
        )

    async def advance(
        self,
        order_ledger_id: uuid.UUID,
        step: str,
        outcome: str,
        *,
        status: LedgerStatus | None = None,
        detail: str | None = None,
        order_id: uuid.UUID | None = None,
        failure_reason: str | None = None,
    ) -> StatusChange | None:
        """Append a step (and move the status); None when this step was already recorded.

        A step is recorded once, so an activity retried after its commit changes nothing.
        """
        step_json = json.dumps({"step": step, "outcome": outcome})
        # The notification (see domain/checkout/status_watch.py) is sent when this commits.
        row = await self._conn.fetchrow(
            "WITH moved AS (UPDATE order_ledger SET status = COALESCE($2, status), "
            "steps = steps || jsonb_build_array($3::jsonb || jsonb_build_object("
            "  'status', COALESCE($2, status), 'detail', $4::text, 'at', now())), "
            "order_id = COALESCE($5, order_id), failure_reason = COALESCE($6, failure_reason), "
            "next_retry_at = NULL, updated_at = now() "
            "WHERE order_ledger_id = $1 AND NOT steps @> jsonb_build_array($3::jsonb) "
            "RETURNING customer_id, status, failure_reason, updated_at) "
            "SELECT customer_id, status, failure_reason, updated_at, "
            f"pg_notify('{ORDER_STATUS_CHANNEL}', $1::text) AS notified FROM moved",
            order_ledger_id,
            None if status is None else status.value,
            step_json,
            detail,
            order_id,
            failure_reason,
        )
        if row is None:
            if not await self._conn.fetchval(
                "SELECT 1 FROM order_ledger WHERE order_ledger_id = $1", order_ledger_id
            ):
                raise NotFound(f"ledger entry {order_ledger_id} does not exist")
            return None
        return _change(order_ledger_id, row)

    async def note_retry(
        self, order_ledger_id: uuid.UUID, step: str, attempt: int, next_retry_at: datetime | None
    ) -> None:
        """Count a transient failure of `step` and when its next attempt is due (once per attempt).

        An attempt that timed out may still fail later; by then the next attempt has counted it.
        """
        await self._conn.execute(
            "WITH moved AS (UPDATE order_ledger SET retry_count = retry_count + 1, "
            "next_retry_at = $2, "
            "steps = steps || jsonb_build_array(jsonb_build_object('step', $3::text, "
            "  'outcome', 'retrying', 'attempt', $4::int, 'status', status, 'at', now())), "
            "updated_at = now() WHERE order_ledger_id = $1 AND NOT EXISTS "
            "(SELECT 1 FROM jsonb_array_elements(steps) e WHERE e->>'step' = $3::text "
            " AND e->>'outcome' IN ('retrying', 'timed_out') AND (e->>'attempt')::int = $4::int) "
            "RETURNING 1) "
            f"SELECT pg_notify('{ORDER_STATUS_CHANNEL}', $1::text) FROM moved",
            order_ledger_id,
            next_retry_at,
            step,
            attempt,
        )

    async def note_lost_attempts(self, order_ledger_id: uuid.UUID, step: str, attempt: int) -> int:
        """Count each attempt of `step` before `attempt` that failed unseen; how many.

        An attempt that timed out, or whose worker died, raised nothing to count: Temporal only
        starts the next one. Each such attempt gets a `timed_out` step entry and a retry.
        """
        found = await self._conn.fetchval(
            "WITH missing AS (SELECT a FROM generate_series(1, $3::int - 1) a "
            "  WHERE NOT EXISTS (SELECT 1 FROM order_ledger l, jsonb_array_elements(l.steps) e "
            "    WHERE l.order_ledger_id = $1 AND e->>'step' = $2::text "
            "    AND e->>'outcome' IN ('retrying', 'timed_out') AND (e->>'attempt')::int = a)), "
            "lost AS (SELECT count(*) AS n, coalesce(jsonb_agg(jsonb_build_object('step', "
            "  $2::text, 'outcome', 'timed_out', 'attempt', a, 'at', now()) ORDER BY a), "
            "  '[]'::jsonb) AS entries FROM missing), "
            "moved AS (UPDATE order_ledger SET retry_count = retry_count + lost.n, "
            "steps = steps || lost.entries, updated_at = now() FROM lost "
            "WHERE order_ledger_id = $1 AND lost.n > 0 RETURNING lost.n) "
            f"SELECT n, pg_notify('{ORDER_STATUS_CHANNEL}', $1::text) FROM moved",
            order_ledger_id,
            step,
            attempt,
        )
        return int(found or 0)

    async def view(self, order_ledger_id: uuid.UUID) -> dict[str, Any]:
        """Everything GET /orders/{order_ledger_id} shows."""
        # One round trip: the lines come along as a JSON array (polling clients ask often).
        row = await self._conn.fetchrow(
            "SELECT order_ledger_id, customer_id, status, total_cents, currency, payment_method, "
            "authorization_id, workflow_id, order_id, failure_reason, retry_count, next_retry_at, "
            "steps, created_at, updated_at, (SELECT COALESCE(json_agg(json_build_object("
            "  'product_id', i.product_id, 'quantity', i.quantity, "
            "  'unit_price_cents', i.unit_price_cents) ORDER BY i.product_id), '[]') "
            "  FROM order_ledger_items i WHERE i.order_ledger_id = l.order_ledger_id) AS items "
            "FROM order_ledger l WHERE order_ledger_id = $1",
            order_ledger_id,
        )
        if row is None:
            raise NotFound(f"order {order_ledger_id} does not exist")
        view = dict(row)
        view["steps"] = json.loads(row["steps"])
        view["items"] = [
            {**item, "line_total_cents": item["quantity"] * item["unit_price_cents"]}
            for item in json.loads(row["items"])
        ]
        return view


def _change(order_ledger_id: uuid.UUID, row: asyncpg.Record) -> StatusChange:
    return StatusChange(
        str(order_ledger_id),
        row["customer_id"],
        row["status"],
        row["failure_reason"],
        row["updated_at"],
    )


# `response_code` is NOT NULL and predates the stored placement; it keeps the status the edge
# answers with, so every row reads alike whichever edge wrote it, until a migration drops it.
_LEGACY_RESPONSE_CODE: dict[type[Placement], int] = {Accepted: 202, Declined: 402}


def _placement_json(placement: Placement) -> dict[str, Any]:
    return {
        "order_ledger_id": str(placement.order_ledger_id),
        "status": placement.status.value,
        "total_cents": placement.total_cents,
        "workflow_id": placement.workflow_id if isinstance(placement, Accepted) else None,
    }


def _stored_placement(body: dict[str, Any]) -> Placement:
    """The placement a row stored, whichever edge version wrote the row."""
    # Rows written before the placement was stored hold the HTTP body (the 202 answer or the
    # 402 problem details); both carry these four fields, so old and new rows read alike.
    ledger_id = uuid.UUID(body["order_ledger_id"])
    if body["workflow_id"] is None:
        return Declined(ledger_id, body["total_cents"])
    return Accepted(
        ledger_id, LedgerStatus(body["status"]), body["total_cents"], body["workflow_id"]
    )

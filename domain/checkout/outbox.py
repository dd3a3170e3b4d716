"""The outbox in PostgreSQL: accepted orders waiting for their saga to start."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from domain.checkout.models import AcceptedOrder
from infra.db.connection import Connection
from infra.telemetry import current_trace_carrier

ORDER_EVENTS_CHANNEL = "order_events"
ORDER_ACCEPTED = "order.accepted"


@dataclass(frozen=True)
class OutboxRow:
    """One claimed row as stored; parsed per row, so one malformed row fails only itself."""

    id: int
    payload: str
    trace_context: str

    def order(self) -> AcceptedOrder:
        """The accepted order the row carries."""
        return AcceptedOrder.from_json(self.payload)

    def carrier(self) -> dict[str, str]:
        """The W3C trace context of the request that wrote the row."""
        found: dict[str, str] = json.loads(self.trace_context)
        return found


class OutboxRepository:
    """Outbox rows through one connection, in the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def enqueue(self, order: AcceptedOrder) -> None:
        """Queue the saga of `order` and NOTIFY the relay.

        The NOTIFY is transactional: the relay hears it only once the row is committed.
        """
        await self._conn.execute(
            "WITH queued AS (INSERT INTO outbox (aggregate_id, event_type, payload, "
            "trace_context) VALUES ($1, $2, $3::jsonb, $5::jsonb) RETURNING id) "
            "SELECT pg_notify($4, id::text) FROM queued",
            uuid.UUID(order.order_ledger_id),
            ORDER_ACCEPTED,
            order.to_json(),
            ORDER_EVENTS_CHANNEL,
            json.dumps(current_trace_carrier()),
        )

    async def claim(self, limit: int) -> list[OutboxRow]:
        """Lock up to `limit` unpublished rows, oldest first, skipping rows others hold."""
        rows = await self._conn.fetch(
            "SELECT id, payload, trace_context FROM outbox WHERE published_at IS NULL "
            "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
            limit,
        )
        return [OutboxRow(row["id"], row["payload"], row["trace_context"]) for row in rows]

    async def mark_published(self, ids: list[int]) -> list[float]:
        """Mark rows published; the seconds each waited since it was written."""
        if not ids:
            return []
        lags = await self._conn.fetch(
            "UPDATE outbox SET published_at = now(), attempts = attempts + 1, "
            "last_error = NULL WHERE id = ANY($1::bigint[]) "
            "RETURNING extract(epoch FROM clock_timestamp() - created_at)::float8 AS lag",
            ids,
        )
        return [max(0.0, row["lag"]) for row in lags]

    async def mark_failed(self, errors: dict[int, str]) -> None:
        """Count a failed start of each row (id to error); the rows stay for a later pass."""
        if not errors:
            return
        await self._conn.execute(
            "UPDATE outbox o SET attempts = o.attempts + 1, last_error = f.error "
            "FROM unnest($1::bigint[], $2::text[]) AS f(id, error) WHERE o.id = f.id",
            list(errors),
            list(errors.values()),
        )

    async def pending(self) -> int:
        """Rows still waiting for their saga to start."""
        count = await self._conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return int(count or 0)

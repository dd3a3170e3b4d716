"""The outbox relay: starts a saga for every committed outbox row, even after an outage.

It wakes on `NOTIFY order_events` and polls anyway, so a lost notification only delays a
start. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so several relays share the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Histogram

from domain.checkout.ledger import ORDER_EVENTS_CHANNEL
from infra.telemetry import context_from_carrier, tracer, untraced

log = logging.getLogger(__name__)

SagaStarter = Callable[[dict[str, Any]], Awaitable[None]]

PUBLISHED = Counter("saga_outbox_published_total", "Outbox rows whose saga was started")
START_FAILURES = Counter(
    "saga_outbox_start_failures_total", "Saga starts that failed and wait for the next pass"
)
LAG = Histogram(
    "saga_outbox_lag_seconds",
    "From the outbox row's commit at the edge to its saga being started",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


@dataclass(frozen=True)
class DrainResult:
    """What one pass over the outbox did."""

    published: int
    failed: int


@dataclass
class OutboxRelay:
    """Claims unpublished outbox rows, starts their sagas, marks them published."""

    pool: asyncpg.Pool
    start_saga: SagaStarter
    batch_size: int = 100
    poll_interval: float = 5.0
    last_error: str | None = field(default=None, init=False)

    async def drain_once(self) -> DrainResult:
        """One batch: start each claimed row's saga; failed starts stay for a later pass."""
        # The polling itself is no one's request: only each row's start joins a trace.
        with untraced():
            return await self._drain_batch()

    async def _drain_batch(self) -> DrainResult:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, payload, trace_context FROM outbox WHERE published_at IS NULL "
                "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self.batch_size,
            )
            if not rows:
                return DrainResult(0, 0)
            outcomes = await asyncio.gather(
                *(self._start(row) for row in rows), return_exceptions=True
            )
            paired = list(zip(rows, outcomes, strict=True))
            done = [row["id"] for row, out in paired if not isinstance(out, BaseException)]
            failed = [
                (row["id"], repr(out)[:500])
                for row, out in paired
                if isinstance(out, BaseException)
            ]
            lags = await conn.fetch(
                "UPDATE outbox SET published_at = now(), attempts = attempts + 1, "
                "last_error = NULL WHERE id = ANY($1::bigint[]) "
                "RETURNING extract(epoch FROM clock_timestamp() - created_at)::float8 AS lag",
                done,
            )
            if failed:
                await conn.execute(
                    "UPDATE outbox o SET attempts = o.attempts + 1, last_error = f.error "
                    "FROM unnest($1::bigint[], $2::text[]) AS f(id, error) WHERE o.id = f.id",
                    [row_id for row_id, _ in failed],
                    [error for _, error in failed],
                )
        PUBLISHED.inc(len(done))
        for lag in lags:
            LAG.observe(max(0.0, lag["lag"]))
        START_FAILURES.inc(len(failed))
        self.last_error = failed[0][1] if failed else None
        return DrainResult(len(done), len(failed))

    async def _start(self, row: asyncpg.Record) -> None:
        """Start one row's saga inside the trace of the request that wrote the row."""
        parent = context_from_carrier(json.loads(row["trace_context"]))
        with tracer(__name__).start_as_current_span(
            "outbox publish",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={"saga.outbox_id": row["id"]},
        ):
            await self.start_saga(json.loads(row["payload"]))

    async def drain(self) -> int:
        """Batches until the outbox is empty or a start fails; how many were published."""
        total = 0
        while True:
            result = await self.drain_once()
            total += result.published
            if result.failed or result.published < self.batch_size:
                return total

    async def pending(self) -> int:
        """Rows still waiting for their saga to start."""
        count = await self.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return int(count or 0)

    async def run(self, dsn: str, stop: asyncio.Event) -> None:
        """LISTEN and poll until `stop` is set; reconnects the listener if it drops."""
        wake = asyncio.Event()
        listener: asyncpg.Connection | None = None
        try:
            while not stop.is_set():
                if listener is None or listener.is_closed():
                    listener = await self._listen(dsn, wake)
                wake.clear()
                try:
                    await self.drain()
                # InterfaceError: the pool's connection died under us (PostgreSQL restarting).
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    self.last_error = repr(exc)
                    log.warning("outbox drain failed; retrying at the next poll", exc_info=True)
                stopping = asyncio.ensure_future(stop.wait())
                woken = asyncio.ensure_future(wake.wait())
                await asyncio.wait(
                    {stopping, woken},
                    timeout=self.poll_interval,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                stopping.cancel()
                woken.cancel()
        finally:
            if listener is not None and not listener.is_closed():
                await listener.close()

    async def _listen(self, dsn: str, wake: asyncio.Event) -> asyncpg.Connection | None:
        def notified(*_: object) -> None:
            wake.set()

        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            conn = await asyncpg.connect(dsn)
            await conn.add_listener(ORDER_EVENTS_CHANNEL, notified)
            return conn
        log.warning(
            "cannot LISTEN %s; polling every %.0fs", ORDER_EVENTS_CHANNEL, self.poll_interval
        )
        return None

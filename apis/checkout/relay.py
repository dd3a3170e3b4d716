"""`saga relay`: the outbox relay process, with /health and /metrics.

It starts a saga for every committed outbox row, even after an outage. It wakes on
`NOTIFY order_events` and polls anyway, so a lost notification only delays a start. Rows are
claimed with `FOR UPDATE SKIP LOCKED`, so several relays share the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
from fastapi import FastAPI, Response
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Histogram

from apis.fronts import http_front
from domain.checkout.models import AcceptedOrder
from domain.checkout.outbox import ORDER_EVENTS_CHANNEL, OutboxRepository, OutboxRow
from domain.checkout.stuck import watch_stuck_sagas
from infra.db.pool import create_pool
from infra.serving import hosted_server, serve_until_signalled
from infra.settings import PlatformSettings
from infra.telemetry import (
    configure_telemetry,
    context_from_carrier,
    tracer,
    untraced,
)
from infra.temporal_client import connect_temporal
from workflows.checkout.starter import OrderSagaStarter

log = logging.getLogger(__name__)

SagaStarter = Callable[[AcceptedOrder], Awaitable[None]]

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
    # How many passes ran and how many NOTIFYs woke it (what a person and the tests can see).
    passes: int = field(default=0, init=False)
    wakeups: int = field(default=0, init=False)

    async def drain_once(self) -> DrainResult:
        """One batch: start each claimed row's saga; failed starts stay for a later pass."""
        # The polling itself is no one's request: only each row's start joins a trace.
        with untraced():
            return await self._drain_batch()

    async def _drain_batch(self) -> DrainResult:
        # The rows stay locked while their sagas start, so no other relay starts them too.
        async with self.pool.acquire() as conn, conn.transaction():
            outbox = OutboxRepository(conn)
            rows = await outbox.claim(self.batch_size)
            if not rows:
                return DrainResult(0, 0)
            outcomes = await asyncio.gather(
                *(self._start(row) for row in rows), return_exceptions=True
            )
            paired = list(zip(rows, outcomes, strict=True))
            done = [row.id for row, out in paired if not isinstance(out, BaseException)]
            failed = {
                row.id: repr(out)[:500] for row, out in paired if isinstance(out, BaseException)
            }
            lags = await outbox.mark_published(done)
            await outbox.mark_failed(failed)
        PUBLISHED.inc(len(done))
        for lag in lags:
            LAG.observe(lag)
        START_FAILURES.inc(len(failed))
        self.last_error = next(iter(failed.values()), None)
        return DrainResult(len(done), len(failed))

    async def _start(self, row: OutboxRow) -> None:
        """Start one row's saga inside the trace of the request that wrote the row."""
        with tracer(__name__).start_as_current_span(
            "outbox publish",
            context=context_from_carrier(row.carrier()),
            kind=SpanKind.PRODUCER,
            attributes={"saga.outbox_id": row.id},
        ):
            await self.start_saga(row.order())

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
        async with self.pool.acquire() as conn:
            return await OutboxRepository(conn).pending()

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
                    self.passes += 1
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
            self.wakeups += 1
            wake.set()

        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            conn = await asyncpg.connect(dsn)
            await conn.add_listener(ORDER_EVENTS_CHANNEL, notified)
            return conn
        log.warning(
            "cannot LISTEN %s; polling every %.0fs", ORDER_EVENTS_CHANNEL, self.poll_interval
        )
        return None


def health_app(relay: OutboxRelay) -> FastAPI:
    """/health (the database answers; pending rows and the last start error) and /metrics."""
    app = http_front("relay", docs_url=None, redoc_url=None)

    @app.get("/health")
    async def health(response: Response) -> dict[str, object]:
        try:
            pending = await relay.pending()
        except Exception as exc:
            response.status_code = 503
            return {"status": "degraded", "database": repr(exc)}
        return {"status": "ok", "pending": pending, "last_error": relay.last_error}

    return app


async def run_relay(settings: PlatformSettings) -> None:
    """Relay until SIGINT/SIGTERM. Temporal may be down: rows wait and start when it returns."""
    configure_telemetry("relay", settings)
    # Lazy: the relay must come up (and keep accepting rows) while Temporal is down.
    client = (await connect_temporal(settings, lazy=True)).client
    pool = await create_pool(settings.resolved_database_url, max_size=4)
    relay = OutboxRelay(pool, OrderSagaStarter(client))
    server = hosted_server(health_app(relay), settings.bind_host, settings.relay_port)
    stop = asyncio.Event()
    try:
        await serve_until_signalled(
            servers=[server],
            tasks=[relay.run(settings.resolved_database_url, stop), watch_stuck_sagas(pool)],
            stop=stop,
            grace_seconds=5,
        )
    finally:
        await pool.close()

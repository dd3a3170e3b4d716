"""Waiting for an order's ledger status to change: LISTEN on `order_status`, one connection.

Every write to an order's ledger row (`LedgerRepository.advance`, `note_retry`,
`note_lost_attempts`) runs `pg_notify('order_status', <ledger id>)` in its transaction, so the
notification arrives once the change is committed. One listening connection per process fans
notifications out to the requests waiting on that order; a waiter always re-reads the ledger,
so a notification only says "look again".

The same notifications keep a small cache of answers (`ViewCache`) for clients that poll: an
answer is kept only while listening, only if no notification of its order arrived while it was
read (so it cannot be older than a change already announced: a notification is delivered after
its commit, so a read that starts after it sees the change), and is dropped by the next
notification of its order, or by any loss of the listening connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
from prometheus_client import Counter

from domain.checkout.models import LedgerStatus

log = logging.getLogger(__name__)

ORDER_STATUS_CHANNEL = "order_status"

T = TypeVar("T")
ORDER_READS = Counter(
    "saga_edge_order_reads_total",
    "Plain GET /orders/{id} answers, by where they came from (cache or ledger)",
    ["source"],
)
FROM_CACHE = ORDER_READS.labels("cache")
FROM_LEDGER = ORDER_READS.labels("ledger")
CACHED_VIEWS = 10_000
# Orders whose notifications are counted; forgetting the oldest count moves every read's mark.
COUNTED_ORDERS = 100_000


@dataclass(frozen=True)
class CachedView:
    """An order's answer as last read: whose it is, and its JSON body."""

    customer_id: str
    body: bytes


class StatusWatcher:
    """One LISTEN connection, reopened on demand; wakes the waiters of the notified order."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._views: OrderedDict[str, CachedView] = OrderedDict()
        # Notifications per order, and an epoch bumped by every loss of the connection and
        # every count forgotten: an answer read while its order's mark moved may predate a
        # change, and is not kept.
        self._notices: OrderedDict[str, int] = OrderedDict()
        self._epoch = 0

    async def _ensure_listening(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            return
        async with self._lock:
            if self._conn is not None and not self._conn.is_closed():
                return
            conn = await asyncpg.connect(self._dsn)
            await conn.add_listener(ORDER_STATUS_CHANNEL, self._notified)
            conn.add_termination_listener(self._terminated)
            self._conn = conn

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        order = str(payload)
        self._notices[order] = self._notices.pop(order, 0) + 1
        if len(self._notices) > COUNTED_ORDERS:
            self._notices.popitem(last=False)
            self._epoch += 1
        self._views.pop(order, None)
        for event in self._waiters.get(order, ()):
            event.set()

    def _terminated(self, _conn: object) -> None:
        # The listener died (PostgreSQL restarting): wake everyone to re-read and re-listen.
        log.warning("the %s listener was closed; reconnecting on demand", ORDER_STATUS_CHANNEL)
        self._epoch += 1
        self._views.clear()
        for events in self._waiters.values():
            for event in events:
                event.set()

    @property
    def listening(self) -> bool:
        """Whether notifications arrive now (the cache is only used while they do)."""
        return self._conn is not None and not self._conn.is_closed()

    async def start_listening(self) -> bool:
        """Listen if not yet; False (and no cache) if PostgreSQL cannot be reached now."""
        try:
            await self._ensure_listening()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        return True

    def cached(self, order_ledger_id: str) -> CachedView | None:
        """The order's kept answer, if still current."""
        return self._views.get(order_ledger_id) if self.listening else None

    def mark(self, order_ledger_id: str) -> tuple[int, int]:
        """Where the order's notifications stand: taken before a read, checked by `keep`."""
        return self._epoch, self._notices.get(order_ledger_id, 0)

    def keep(self, order_ledger_id: str, view: CachedView, read_at: tuple[int, int]) -> None:
        """Keep an answer read since the mark `read_at`, unless its order moved meanwhile."""
        if not self.listening or self.mark(order_ledger_id) != read_at:
            return
        self._views[order_ledger_id] = view
        self._views.move_to_end(order_ledger_id)
        while len(self._views) > CACHED_VIEWS:
            self._views.popitem(last=False)

    @asynccontextmanager
    async def watching(self, order_ledger_id: str) -> AsyncIterator[asyncio.Event]:
        """An event set on every committed step of the order, registered while listening."""
        await self._ensure_listening()
        event = asyncio.Event()
        self._waiters.setdefault(order_ledger_id, set()).add(event)
        try:
            yield event
        finally:
            events = self._waiters.get(order_ledger_id)
            if events is not None:
                events.discard(event)
                if not events:
                    del self._waiters[order_ledger_id]

    async def wait_for_change(
        self,
        order_ledger_id: str,
        read: Callable[[], Awaitable[T]],
        status_of: Callable[[T], LedgerStatus],
        *,
        seen: LedgerStatus | None,
        timeout: float,
    ) -> T:
        """`read()` once the status differs from `seen` (or the first read's), or at `timeout`.

        A final status that equals `seen` will never change: it is answered at once.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self.watching(order_ledger_id) as changed:
            # Listening before the first read: a change committed after it is not missed.
            current = await read()
            baseline = status_of(current) if seen is None else seen
            while status_of(current) == baseline and not baseline.is_final:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), remaining)
                changed.clear()
                await self._ensure_listening()
                current = await read()
        return current

    async def close(self) -> None:
        """Stop listening."""
        self._views.clear()
        self._epoch += 1
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            await conn.close()

"""The consumer: stream entries into the event store, each once, none lost to a crash.

Entries are read with a consumer group (XREADGROUP), stored in one PostgreSQL transaction each
(the event and the stats it moves) and acknowledged (XACK) only after that commit. A crash
before the commit leaves the entry pending; after the commit and before the ack, it is pending
and stored. Either way it is read again: at start the consumer re-reads its own pending entries
(its name is stable on one machine), and it claims (XAUTOCLAIM) those another consumer left
idle. Storing again finds the event id taken, changes nothing, and acknowledges. An entry that
is no valid event is parked with its reason and acknowledged, so it never blocks the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import asyncpg
from redis.exceptions import ResponseError

from domain.events import metrics
from domain.events.model import STREAMS, Malformed, decode_fields, parse_entry
from domain.events.store import EventStore
from infra.faults import fault_point
from infra.redis import RedisClient, is_cluster

log = logging.getLogger(__name__)

Entries = Sequence[tuple[Any, Any]]
# Values PostgreSQL refuses for this one entry: parked, as retrying would only repeat them.
_UNSTORABLE = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)


class Outcome(StrEnum):
    """What handling one entry did."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    PARKED = "parked"


@dataclass(frozen=True)
class ConsumerConfig:
    """Where and how the consumer reads."""

    group: str
    name: str
    batch_size: int = 100
    block_ms: int = 1_000
    claim_idle_ms: int = 30_000
    streams: tuple[str, ...] = STREAMS


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class EventConsumer:
    """Reads the streams into the store until stopped; outages are waited out, not fatal."""

    redis: RedisClient
    pool: asyncpg.Pool
    config: ConsumerConfig
    last_error: str | None = field(default=None, init=False)
    handled: dict[Outcome, int] = field(default_factory=dict, init=False)
    _grouped: set[str] = field(default_factory=set, init=False)

    async def run(self, stop: asyncio.Event) -> None:
        """Recover what was pending, then read new entries, until `stop` is set."""
        recovering, delay, claimed_at = True, 0.5, 0.0
        while not stop.is_set():
            try:
                await self._ensure_groups()
                if recovering or time.monotonic() - claimed_at > self.config.claim_idle_ms / 2e3:
                    if recovering:
                        await self._recover_own()
                    await self._claim_idle()
                    recovering, claimed_at = False, time.monotonic()
                await self._read_new(stop)
                await self._observe()
                self.last_error, delay = None, 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Redis or PostgreSQL away (or a group deleted under us): what was read and
                # not acknowledged stays pending and is read again once they answer.
                if isinstance(exc, ResponseError) and "NOGROUP" in str(exc):
                    self._grouped.clear()
                self.last_error = f"{type(exc).__name__}: {exc}"[:500]
                log.warning("event consumer paused for %.1fs", delay, exc_info=True)
                recovering = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, 10.0)

    async def _ensure_groups(self) -> None:
        # Only streams that exist: the consumer never creates an empty stream. Reading from
        # "0" takes every entry written before the group existed.
        for stream in self.config.streams:
            if stream in self._grouped or not await self.redis.exists(stream):
                continue
            try:
                await self.redis.xgroup_create(stream, self.config.group, id="0")
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._grouped.add(stream)

    async def _recover_own(self) -> None:
        """Entries delivered to this consumer's name and never acknowledged (its last life)."""
        for stream in sorted(self._grouped):
            after = "0"
            while True:
                reply: Any = await self.redis.xreadgroup(
                    self.config.group,
                    self.config.name,
                    {stream: after},
                    count=self.config.batch_size,
                )
                entries = [e for e in (reply[0][1] if reply else []) if e[0] is not None]
                if not entries:
                    break
                await self._handle(stream, entries)
                after = _text(entries[-1][0])

    async def _claim_idle(self) -> None:
        """Entries another consumer read and left idle past `claim_idle_ms`: presumed dead."""
        for stream in sorted(self._grouped):
            cursor: Any = "0-0"
            while True:
                claimed: Any = await self.redis.xautoclaim(
                    stream,
                    self.config.group,
                    self.config.name,
                    min_idle_time=self.config.claim_idle_ms,
                    start_id=cursor,
                    count=self.config.batch_size,
                )
                cursor, entries = claimed[0], [e for e in claimed[1] if e[0] is not None]
                # Trimmed from the stream while pending: Redis already dropped them from the
                # group; parking says so instead of losing them silently.
                for gone in claimed[2] if len(claimed) > 2 else []:
                    await self._park(Malformed(stream, _text(gone), "trimmed while pending", {}))
                if entries:
                    await self._handle(stream, entries)
                if _text(cursor) == "0-0":
                    break

    async def _read_new(self, stop: asyncio.Event) -> None:
        streams = {stream: ">" for stream in sorted(self._grouped)}
        if not streams:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.config.block_ms / 1000)
            return
        # On a cluster one XREADGROUP may name streams of one slot only: read each in turn,
        # sharing the wait between them.
        groups = [streams] if not is_cluster(self.redis) else [{k: v} for k, v in streams.items()]
        block = max(1, self.config.block_ms // len(groups))
        for group in groups:
            reply: Any = await self.redis.xreadgroup(
                self.config.group,
                self.config.name,
                group,  # type: ignore[arg-type]
                count=self.config.batch_size,
                block=block,
            )
            for stream, entries in reply or []:
                await self._handle(_text(stream), [e for e in entries if e[0] is not None])

    async def _handle(self, stream: str, entries: Entries) -> None:
        """Store each entry in its own transaction; acknowledge those committed."""
        if not entries:
            return
        # Tests arm these (infra/faults.py) to SIGKILL the process between read and ack.
        fault_point("after_read:events")
        committed: list[str] = []
        try:
            async with self.pool.acquire() as conn:
                store = EventStore(conn)
                for raw_id, fields in entries:
                    entry_id = _text(raw_id)
                    await self._store(store, stream, entry_id, fields or {})
                    fault_point("after_commit:events")
                    committed.append(entry_id)
        finally:
            if committed:
                await self.redis.xack(stream, self.config.group, *committed)

    async def _store(self, store: EventStore, stream: str, entry_id: str, fields: Any) -> None:
        parsed = parse_entry(stream, entry_id, fields)
        if isinstance(parsed, Malformed):
            outcome = Outcome.PARKED
            await store.park(parsed)
        else:
            try:
                outcome = Outcome.STORED if await store.record(parsed) else Outcome.DUPLICATE
            except _UNSTORABLE as exc:
                outcome = Outcome.PARKED
                reason = f"not storable: {type(exc).__name__}: {exc}"[:500]
                await store.park(Malformed(stream, entry_id, reason, decode_fields(fields)[0]))
        if outcome is Outcome.PARKED:
            log.warning("parked stream entry %s %s", stream, entry_id)
        self.handled[outcome] = self.handled.get(outcome, 0) + 1
        metrics.CONSUMED.labels(outcome.value).inc()

    async def _park(self, entry: Malformed) -> None:
        async with self.pool.acquire() as conn:
            await EventStore(conn).park(entry)
        self.handled[Outcome.PARKED] = self.handled.get(Outcome.PARKED, 0) + 1
        metrics.CONSUMED.labels(Outcome.PARKED.value).inc()

    async def _observe(self) -> None:
        """Lag (not yet delivered) and pending (not yet acknowledged) of every stream."""
        for stream in self._grouped:
            for group in await self.redis.xinfo_groups(stream):
                if _text(group.get("name")) == self.config.group:
                    metrics.LAG.labels(stream).set(group.get("lag") or 0)
                    metrics.PENDING.labels(stream).set(group.get("pending") or 0)

"""The local side of fan-out: this instance's connections, their channels, delivery to them.

Delivery never awaits a client: each frame is built once per publish and offered to every
subscriber's bounded queue. Subscriptions are mirrored to Redis pub/sub (one channel per
gateway channel) and to the connection registry, which is refreshed on a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterable

from domain.gateway import metrics
from domain.gateway.channels import ALL_CONNECTIONS
from domain.gateway.connection import Connection
from domain.gateway.frames import CloseCode, event_frame
from domain.gateway.pubsub import PubSubRouter
from domain.gateway.registry import ConnectionInfo, ConnectionRegistry, LiveEntry
from infra.redis import RedisClient

log = logging.getLogger(__name__)

BROADCAST_CHANNEL = "broadcast"


class Hub:
    """Connections of one gateway instance and the channels they listen to."""

    def __init__(
        self,
        redis: RedisClient,
        registry: ConnectionRegistry,
        instance_id: str,
        *,
        heartbeat_timeout_seconds: float,
    ) -> None:
        self.instance_id = instance_id
        self.registry = registry
        self.connections: dict[str, Connection] = {}
        self._subscribers: dict[str, set[Connection]] = {}
        self._heartbeat_timeout = heartbeat_timeout_seconds
        self.router = PubSubRouter(redis, self._deliver, self._reregister)
        self._tasks: list[asyncio.Task[None]] = []
        # Set when Redis may have lost our entries (reconnect, failed refresh).
        self._rewrite_registry = False
        # Set by close_all: the router is about to stop, so closing sockets leave its Redis
        # channels alone (one UNSUBSCRIBE at a time for thousands of them took seconds).
        self._closing = False

    async def start(self) -> None:
        """Subscribe to Redis and start the refresh and heartbeat timers."""
        await self.router.start()
        self._tasks = [
            asyncio.create_task(self._refresh_loop(), name="registry-refresh"),
            asyncio.create_task(self._heartbeat_loop(), name="heartbeat-sweep"),
        ]

    async def stop(self) -> None:
        """Close every connection (going away) and stop listening."""
        await self.close_all(CloseCode.GOING_AWAY, "gateway shutting down")
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.router.stop()

    async def close_all(self, code: int, reason: str) -> int:
        """At shutdown: close every connection with `code`, wait for the close frames; how many.

        Each socket's own handler then sees the close and does its session bookkeeping.
        """
        self._closing = True
        closing = list(self.connections.values())
        for conn in closing:
            conn.kill(code, reason)
        await asyncio.gather(*(conn.closed() for conn in closing))
        return len(closing)

    def subscribers(self, channel: str) -> frozenset[Connection]:
        """Local connections subscribed to `channel`."""
        return frozenset(self._subscribers.get(channel, ()))

    async def add(self, conn: Connection) -> None:
        """Register a freshly authenticated connection here and in Redis."""
        self.connections[conn.connection_id] = conn
        metrics.CONNECTIONS.inc()
        metrics.CONNECTIONS_TOTAL.inc()
        conn.start()
        with contextlib.suppress(Exception):
            await self.registry.save(self._info(conn))

    async def remove(self, conn: Connection) -> None:
        """Forget a closed connection and drop the Redis channels nobody here needs."""
        if self.connections.pop(conn.connection_id, None) is None:
            return
        metrics.CONNECTIONS.dec()
        channels = list(conn.channels)
        for channel in channels:
            self._detach(conn, channel)
        for channel in channels:
            if channel not in self._subscribers and not self._closing:
                await self.router.unsubscribe(channel)
        with contextlib.suppress(Exception):
            await self.registry.delete(conn.connection_id, conn.user_id, channels)

    async def subscribe(self, conn: Connection, channel: str) -> None:
        """Deliver `channel` to `conn` from now on."""
        if channel in conn.channels:
            return
        conn.channels.add(channel)
        self._subscribers.setdefault(channel, set()).add(conn)
        await self.router.subscribe(channel)
        if not channel.startswith("user:"):
            with contextlib.suppress(Exception):
                await self.registry.add_channel(conn.connection_id, channel)

    async def unsubscribe(self, conn: Connection, channel: str) -> None:
        """Stop delivering `channel` to `conn`."""
        if channel not in conn.channels:
            return
        self._detach(conn, channel)
        if channel not in self._subscribers:
            await self.router.unsubscribe(channel)
        with contextlib.suppress(Exception):
            await self.registry.remove_channel(conn.connection_id, channel)

    def _detach(self, conn: Connection, channel: str) -> None:
        conn.channels.discard(channel)
        members = self._subscribers.get(channel)
        if members is not None:
            members.discard(conn)
            if not members:
                del self._subscribers[channel]

    def deliver_local(self, channel: str, payload_json: str) -> int:
        """Offer an event to local subscribers of `channel`; returns how many took it."""
        if channel == ALL_CONNECTIONS:
            targets: Iterable[Connection] = list(self.connections.values())
            text = event_frame(BROADCAST_CHANNEL, payload_json)
        else:
            members = self._subscribers.get(channel)
            if not members:
                return 0
            targets = list(members)
            text = event_frame(channel, payload_json)
        delivered = 0
        for conn in targets:
            if conn.offer(text):
                delivered += 1
        metrics.MESSAGES_OUT.inc(delivered)
        return delivered

    def _deliver(self, channel: str, data: bytes) -> None:
        metrics.PUBSUB_MESSAGES.inc()
        try:
            payload = data.decode()
            if not isinstance(json.loads(payload), dict):
                raise ValueError("payload is not a JSON object")
        except ValueError as exc:
            log.warning("dropped a message on %s that breaks the contract: %s", channel, exc)
            return
        self.deliver_local(channel, payload)

    def _info(self, conn: Connection) -> ConnectionInfo:
        return ConnectionInfo(
            conn.connection_id,
            conn.user_id,
            self.instance_id,
            conn.client_type,
            conn.ip,
            conn.connected_at,
            conn.status.value,
        )

    def _live_entries(self) -> list[LiveEntry]:
        # A user's private channel is not indexed: its subscribers are the user's connections.
        return [
            LiveEntry(self._info(c), tuple(ch for ch in c.channels if not ch.startswith("user:")))
            for c in self.connections.values()
        ]

    async def _reregister(self) -> None:
        """After a Redis reconnect the server may have lost our entries: write them again."""
        self._rewrite_registry = True
        await self._refresh_registry()

    async def _refresh_registry(self) -> None:
        rewrite, self._rewrite_registry = self._rewrite_registry, False
        try:
            await self.registry.refresh(self._live_entries(), rewrite=rewrite)
        except Exception as exc:
            self._rewrite_registry = True
            log.warning("registry refresh failed; retrying on the next tick: %s", exc)

    async def _refresh_loop(self) -> None:
        interval = max(0.5, self.registry.ttl_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            await self._refresh_registry()

    async def _heartbeat_loop(self) -> None:
        interval = max(0.1, self._heartbeat_timeout / 4)
        while True:
            await asyncio.sleep(interval)
            cutoff = time.monotonic() - self._heartbeat_timeout
            for conn in list(self.connections.values()):
                if conn.open and conn.last_seen < cutoff:
                    conn.kill(CloseCode.HEARTBEAT_TIMEOUT, "no heartbeat")

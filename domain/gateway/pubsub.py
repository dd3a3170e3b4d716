"""One Redis subscription per gateway channel that has local subscribers.

Never one global channel: an instance only receives what its own connections asked for.
When the Redis connection drops, the router reconnects with backoff and subscribes again to
every channel it still wants, then tells its owner (who re-registers its connections).

On a Redis/Valkey Cluster each channel is heard twice over: sharded (SSUBSCRIBE on the master
that owns the channel's slot, where the gateway's own publishers SPUBLISH, so a message
crosses no other shard) and classic (SUBSCRIBE on one node, for publishers that still use a
plain PUBLISH, which the cluster bus copies to every node). A publisher uses one or the
other, so each message arrives once. When a slot moves (the server drops our sharded
subscription) or a node fails, the router reconnects from a fresh view of the cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain.gateway.channels import ALL_CONNECTIONS
from domain.gateway.pubsub_links import ClusterLink, Link, MessageHandler, SingleLink
from infra.redis import RedisClient

log = logging.getLogger(__name__)

ReconnectHandler = Callable[[], Awaitable[None]]

_BACKOFF_START = 0.1
_BACKOFF_MAX = 2.0


class PubSubRouter:
    """Routes Redis pub/sub messages of the channels it is asked for to one handler."""

    def __init__(
        self,
        redis: RedisClient,
        on_message: MessageHandler,
        on_reconnect: ReconnectHandler | None = None,
    ) -> None:
        self._redis = redis
        self._on_message = on_message
        self._on_reconnect = on_reconnect
        self._wanted: set[str] = {ALL_CONNECTIONS}
        self._link: Link | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self.reconnects = 0

    @property
    def connected(self) -> bool:
        """True while the subscription connection is up."""
        return self._connected.is_set()

    @property
    def channels(self) -> frozenset[str]:
        """Every Redis channel this router wants to hear."""
        return frozenset(self._wanted)

    async def start(self) -> None:
        """Connect, subscribe and start reading; returns once subscribed (or retrying)."""
        self._task = asyncio.create_task(self._run(), name="pubsub-router")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout=5)

    async def stop(self) -> None:
        """Stop reading and close the subscription connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close()

    async def wait_connected(self, timeout: float) -> bool:
        """Wait until subscribed; False if that did not happen within `timeout`."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def subscribe(self, channel: str) -> None:
        """Hear `channel` from now on (also after any reconnect)."""
        async with self._lock:
            if channel in self._wanted:
                return
            self._wanted.add(channel)
            await self._command("subscribe", channel)

    async def unsubscribe(self, channel: str) -> None:
        """Stop hearing `channel`."""
        async with self._lock:
            if channel not in self._wanted or channel == ALL_CONNECTIONS:
                return
            self._wanted.discard(channel)
            await self._command("unsubscribe", channel)

    async def _command(self, name: str, channel: str) -> None:
        link = self._link
        if link is None or not self.connected:
            return  # the reconnect subscribes to everything in _wanted
        try:
            await getattr(link, name)(channel)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            log.warning("pubsub %s %s failed, will retry on reconnect: %s", name, channel, exc)

    async def _connect(self) -> None:
        await self._close()
        link: Link
        if isinstance(self._redis, RedisCluster):
            link = ClusterLink(self._redis, self._on_message, self._wanted.__contains__)
        else:
            link = SingleLink(self._redis, self._on_message)
        try:
            async with self._lock:
                await link.subscribe(*sorted(self._wanted))
                self._link = link
        except BaseException:
            await link.close()
            raise
        self._connected.set()

    async def _close(self) -> None:
        self._connected.clear()
        link, self._link = self._link, None
        if link is not None:
            await link.close()

    async def _refresh_topology(self) -> None:
        """On a cluster, learn the current masters and slots before subscribing again."""
        if isinstance(self._redis, RedisCluster):
            try:
                await self._redis.nodes_manager.initialize()
            except Exception as exc:
                log.warning("cluster topology refresh failed: %s", exc)

    async def _run(self) -> None:
        backoff = _BACKOFF_START
        first = True
        while True:
            try:
                await self._connect()
                if not first:
                    self.reconnects += 1
                    log.info("pubsub reconnected; %d channels resubscribed", len(self._wanted))
                    if self._on_reconnect is not None:
                        await self._on_reconnect()
                first = False
                backoff = _BACKOFF_START
                await self._read()
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("pubsub connection lost (%s); retrying in %.1fs", exc, backoff)
            except Exception:
                log.exception("pubsub reader failed; restarting")
            await self._close()
            await asyncio.sleep(backoff)
            backoff = min(_BACKOFF_MAX, backoff * 2)
            await self._refresh_topology()

    async def _read(self) -> None:
        link = self._link
        assert link is not None
        await link.read()

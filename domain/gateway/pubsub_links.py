"""How a gateway hears Redis channels: one link to a single server, or one per master.

`SingleLink` subscribes on one connection. `ClusterLink` holds one sharded subscription
(SSUBSCRIBE) per master that owns a wanted channel's slot, plus one classic SUBSCRIBE for
publishers that still use a plain PUBLISH; a dropped shard subscription (the slot moved)
surfaces as a connection error, so `PubSubRouter` reconnects from a fresh view.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]

_DATA_TYPES = ("message", "smessage")
# Connection options a per-node subscriber copies from the cluster client.
_NODE_OPTIONS = ("username", "password", "socket_connect_timeout", "client_name")


class Link(Protocol):
    """The subscription connection(s) of one router, for one connection lifetime."""

    async def subscribe(self, *channels: str) -> None: ...

    async def unsubscribe(self, channel: str) -> None: ...

    async def read(self) -> None: ...

    async def close(self) -> None: ...


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _data(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


async def _close_pubsub(pubsub: PubSub) -> None:
    with contextlib.suppress(Exception):
        await pubsub.aclose()


class SingleLink:
    """One server: one connection, classic SUBSCRIBE."""

    def __init__(self, redis: aioredis.Redis, on_message: MessageHandler) -> None:
        self._pubsub = redis.pubsub(ignore_subscribe_messages=True)
        self._on_message = on_message

    async def subscribe(self, *channels: str) -> None:
        await self._pubsub.subscribe(*channels)

    async def unsubscribe(self, channel: str) -> None:
        await self._pubsub.unsubscribe(channel)

    async def read(self) -> None:
        while True:
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None or message.get("type") not in _DATA_TYPES:
                continue
            _dispatch(self._on_message, message)

    async def close(self) -> None:
        await _close_pubsub(self._pubsub)


def _dispatch(on_message: MessageHandler, message: dict[str, Any]) -> None:
    name = _text(message["channel"])
    try:
        on_message(name, _data(message["data"]))
    except Exception:
        log.exception("handler failed for a message on %s", name)


class _ShardMoved(RedisConnectionError):
    """The server dropped a sharded subscription we still want: its slot moved."""


class ClusterLink:
    """A cluster: SSUBSCRIBE per owning master, plus one classic SUBSCRIBE connection."""

    def __init__(
        self,
        cluster: RedisCluster,
        on_message: MessageHandler,
        wanted: Callable[[str], bool],
    ) -> None:
        self._cluster = cluster
        self._on_message = on_message
        self._wanted = wanted
        self._clients: dict[str, aioredis.Redis] = {}
        self._shards: dict[str, PubSub] = {}  # node name -> its sharded subscriber
        self._owner: dict[str, str] = {}  # channel -> node name it is subscribed on
        self._classic: PubSub | None = None
        self._readers: list[asyncio.Task[None]] = []
        self._failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def _client(self, node: ClusterNode) -> aioredis.Redis:
        client = self._clients.get(node.name)
        if client is None:
            kwargs = node.connection_kwargs
            options = {k: kwargs[k] for k in _NODE_OPTIONS if kwargs.get(k) is not None}
            # No silent reconnects: redis-py would replay every shard channel of the
            # connection in one SSUBSCRIBE on its own. A lost connection surfaces here and the
            # router subscribes again from the current view of the cluster, channel by channel.
            client = aioredis.Redis(
                host=node.host, port=int(node.port), retry=Retry(NoBackoff(), 0), **options
            )
            self._clients[node.name] = client
        return client

    def _owner_of(self, channel: str) -> ClusterNode:
        node = self._cluster.get_node_from_key(channel)
        if node is None:
            raise RedisConnectionError(f"no master owns the slot of {channel}")
        return node

    def _watch(self, pubsub: PubSub) -> None:
        task = asyncio.create_task(self._read_one(pubsub), name="pubsub-shard-reader")
        task.add_done_callback(self._reader_done)
        self._readers.append(task)

    def _reader_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._failed.done():
            return
        exc = task.exception()
        self._failed.set_exception(exc or RedisConnectionError("pubsub reader stopped"))

    async def subscribe(self, *channels: str) -> None:
        if self._classic is None:
            await self._cluster.initialize()  # learns the masters and slots, once
            self._classic = self._client(self._cluster.get_random_node()).pubsub()
            await self._classic.subscribe(*channels)
            self._watch(self._classic)
        else:
            await self._classic.subscribe(*channels)
        for channel in channels:
            node = self._owner_of(channel)
            pubsub = self._shards.get(node.name)
            fresh = pubsub is None
            if pubsub is None:
                pubsub = self._client(node).pubsub()
                self._shards[node.name] = pubsub
            await pubsub.ssubscribe(channel)
            self._owner[channel] = node.name
            if fresh:
                self._watch(pubsub)

    async def unsubscribe(self, channel: str) -> None:
        if self._classic is not None:
            await self._classic.unsubscribe(channel)
        owner = self._owner.pop(channel, None)
        pubsub = self._shards.get(owner) if owner is not None else None
        if pubsub is not None:
            await pubsub.sunsubscribe(channel)

    async def _read_one(self, pubsub: PubSub) -> None:
        while True:
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=False, timeout=1.0)
            except ResponseError as exc:
                # Should redis-py still reconnect a subscriber by itself, it replays every
                # shard channel in one SSUBSCRIBE, which spans slots: start over cleanly.
                raise RedisConnectionError(f"shard subscriber lost its connection: {exc}") from exc
            if message is None:
                continue
            kind = message.get("type")
            if kind in _DATA_TYPES:
                _dispatch(self._on_message, message)
            elif kind == "sunsubscribe" and self._wanted(_text(message["channel"])):
                # Not our doing: the slot of this channel now lives on another master.
                raise _ShardMoved(f"shard channel {_text(message['channel'])} moved")

    async def read(self) -> None:
        await self._failed

    async def close(self) -> None:
        for task in self._readers:
            task.cancel()
        for task in self._readers:
            with contextlib.suppress(BaseException):
                await task
        if not self._failed.done():
            self._failed.cancel()
        else:
            with contextlib.suppress(BaseException):
                self._failed.exception()
        for pubsub in [*self._shards.values(), *([self._classic] if self._classic else [])]:
            await _close_pubsub(pubsub)
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                await client.aclose()

"""Which connections exist, on which instance, for which user, in which channels: in Redis.

Every entry carries a TTL that its instance refreshes; when an instance crashes, its
entries stop being refreshed and vanish, so other instances never count ghosts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain.gateway.redis_values import as_text
from infra.redis import RedisClient

_CHUNK = 250


@dataclass(frozen=True)
class ConnectionInfo:
    """One live WebSocket, as every instance sees it."""

    connection_id: str
    user_id: str
    instance_id: str
    client_type: str
    ip: str
    connected_at: float
    status: str = "online"


@dataclass(frozen=True)
class LiveEntry:
    """What a refresh writes about one local connection."""

    info: ConnectionInfo
    channels: tuple[str, ...]


class ConnectionRegistry:
    """Connection entries with a TTL, indexed by user and by channel."""

    def __init__(self, redis: RedisClient, ttl_seconds: int, prefix: str = "gw") -> None:
        self._redis = redis
        self.ttl_seconds = ttl_seconds
        self._prefix = prefix

    def _conn(self, connection_id: str) -> str:
        return f"{self._prefix}:conn:{connection_id}"

    def _user(self, user_id: str) -> str:
        return f"{self._prefix}:user:{user_id}"

    def _channel(self, channel: str) -> str:
        return f"{self._prefix}:chan:{channel}"

    def _expiry(self) -> float:
        return time.time() + self.ttl_seconds

    async def save(self, info: ConnectionInfo) -> None:
        """Register a connection."""
        await self.refresh([LiveEntry(info, ())], rewrite=True)

    @staticmethod
    def _fields(info: ConnectionInfo) -> dict[Any, Any]:
        return {
            "user_id": info.user_id,
            "instance_id": info.instance_id,
            "client_type": info.client_type,
            "ip": info.ip,
            "connected_at": repr(info.connected_at),
            "status": info.status,
        }

    async def get(self, connection_id: str) -> ConnectionInfo | None:
        """The entry of a connection, or None once it is gone or expired."""
        raw = await self._redis.hgetall(self._conn(connection_id))
        if not raw or b"user_id" not in raw:
            return None
        text = {as_text(k): as_text(v) for k, v in raw.items()}
        return ConnectionInfo(
            connection_id,
            text["user_id"],
            text.get("instance_id", ""),
            text.get("client_type", "unknown"),
            text.get("ip", ""),
            float(text.get("connected_at", "0")),
            text.get("status", "online"),
        )

    async def delete(self, connection_id: str, user_id: str, channels: Iterable[str]) -> None:
        """Unregister a connection and its subscriptions."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.delete(self._conn(connection_id))
            pipe.zrem(self._user(user_id), connection_id)
            for channel in channels:
                pipe.zrem(self._channel(channel), connection_id)
            await pipe.execute()

    async def set_status(self, connection_id: str, status: str) -> None:
        """Record a connection's presence status (online or away)."""
        await self._redis.hset(self._conn(connection_id), "status", status)

    async def add_channel(self, connection_id: str, channel: str) -> None:
        """Record a subscription."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(self._channel(channel), {connection_id: self._expiry()})
            pipe.expire(self._channel(channel), self.ttl_seconds)
            await pipe.execute()

    async def remove_channel(self, connection_id: str, channel: str) -> None:
        """Forget a subscription."""
        await self._redis.zrem(self._channel(channel), connection_id)

    async def _live_members(self, key: str) -> list[str]:
        now = time.time()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zrange(key, 0, -1)
            _, members = await pipe.execute()
        return sorted(as_text(m) for m in members)

    async def by_user(self, user_id: str) -> list[ConnectionInfo]:
        """Every live connection of a user, on any instance."""
        found = []
        for connection_id in await self._live_members(self._user(user_id)):
            info = await self.get(connection_id)
            if info is not None:
                found.append(info)
        return found

    async def by_channel(self, channel: str) -> list[str]:
        """Ids of every live connection subscribed to `channel`, on any instance."""
        return await self._live_members(self._channel(channel))

    async def refresh(self, entries: Iterable[LiveEntry], *, rewrite: bool = False) -> int:
        """Push back the expiry of local connections; returns how many.

        With `rewrite`, every field is written again, so entries lost by a Redis restart come
        back. Work goes in chunks so a big instance never blocks its event loop for long.
        """
        batch = list(entries)
        for start in range(0, len(batch), _CHUNK):
            await self._refresh_chunk(batch[start : start + _CHUNK], rewrite)
            await asyncio.sleep(0)
        return len(batch)

    async def _refresh_chunk(self, entries: list[LiveEntry], rewrite: bool) -> None:
        expiry = self._expiry()
        ttl = self.ttl_seconds
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry in entries:
                info = entry.info
                if rewrite:
                    pipe.hset(self._conn(info.connection_id), mapping=self._fields(info))
                pipe.expire(self._conn(info.connection_id), ttl)
                pipe.zadd(self._user(info.user_id), {info.connection_id: expiry})
                pipe.expire(self._user(info.user_id), ttl)
                for channel in entry.channels:
                    pipe.zadd(self._channel(channel), {info.connection_id: expiry})
                    pipe.expire(self._channel(channel), ttl)
            if entries:
                await pipe.execute()

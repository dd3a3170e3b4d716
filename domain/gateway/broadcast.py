"""Publishing side of fan-out: to a channel, a user or every connection, across instances."""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis

from domain.gateway.channels import ALL_CONNECTIONS, user_channel


class Broadcaster:
    """PUBLISH to the Redis channel named like the gateway channel (the real-time contract)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def to_channel(self, channel: str, payload: dict[str, Any]) -> int:
        """Deliver `payload` to every subscriber of `channel`; returns instances reached."""
        return int(await self._redis.publish(channel, json.dumps(payload)))

    async def to_user(self, user_id: str, payload: dict[str, Any]) -> int:
        """Deliver `payload` to every connection of one user, on any instance."""
        return await self.to_channel(user_channel(user_id), payload)

    async def to_all(self, payload: dict[str, Any]) -> int:
        """Deliver `payload` to every connection of every instance."""
        return await self.to_channel(ALL_CONNECTIONS, payload)

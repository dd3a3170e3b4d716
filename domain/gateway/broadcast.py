"""Publishing side of fan-out: to a channel, a user or every connection, across instances."""

from __future__ import annotations

import json
from typing import Any

from domain.gateway.channels import ALL_CONNECTIONS, user_channel
from infra.redis import RedisClient, publish


class Broadcaster:
    """PUBLISH to the Redis channel named like the gateway channel (the real-time contract).

    On a cluster it is SPUBLISH: only the master owning the channel's slot carries the
    message, to the gateways that subscribed there (see `domain/gateway/pubsub.py`).
    """

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def to_channel(self, channel: str, payload: dict[str, Any]) -> int:
        """Deliver `payload` to every subscriber of `channel`; returns instances reached."""
        return await publish(self._redis, channel, json.dumps(payload))

    async def to_user(self, user_id: str, payload: dict[str, Any]) -> int:
        """Deliver `payload` to every connection of one user, on any instance."""
        return await self.to_channel(user_channel(user_id), payload)

    async def to_all(self, payload: dict[str, Any]) -> int:
        """Deliver `payload` to every connection of every instance."""
        return await self.to_channel(ALL_CONNECTIONS, payload)

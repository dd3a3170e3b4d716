"""Presence of users across all their connections on all instances: online, away, offline."""

from __future__ import annotations

import time

from domain.gateway.broadcast import Broadcaster
from domain.gateway.channels import presence_channel
from domain.gateway.connection import PresenceStatus
from domain.gateway.redis_values import as_text
from domain.gateway.registry import ConnectionRegistry
from infra.redis import RedisClient


def aggregate(statuses: list[str]) -> PresenceStatus:
    """Online if any connection is online, away if all are away, offline without any."""
    if not statuses:
        return PresenceStatus.OFFLINE
    if any(s == PresenceStatus.ONLINE for s in statuses):
        return PresenceStatus.ONLINE
    return PresenceStatus.AWAY


class PresenceService:
    """Recomputes a user's presence from the registry and announces changes on `presence:{id}`."""

    def __init__(
        self, redis: RedisClient, registry: ConnectionRegistry, broadcaster: Broadcaster
    ) -> None:
        self._redis = redis
        self._registry = registry
        self._broadcaster = broadcaster

    async def get_status(self, user_id: str) -> PresenceStatus:
        """The user's presence right now."""
        connections = await self._registry.by_user(user_id)
        return aggregate([c.status for c in connections])

    async def set_status(self, connection_id: str, user_id: str, status: PresenceStatus) -> None:
        """Record one connection's status (online or away) and announce any change."""
        await self._registry.set_status(connection_id, status.value)
        await self.announce(user_id)

    async def announce(self, user_id: str) -> PresenceStatus:
        """Publish the user's presence if it differs from what was last announced."""
        status = await self.get_status(user_id)
        key = f"gw:presence:{user_id}"
        # SET ... GET makes the check-and-set one step, so two instances never both announce.
        previous = await self._redis.set(key, status.value, get=True, ex=86_400)
        if previous is None or as_text(previous) != status.value:
            await self._broadcaster.to_channel(
                presence_channel(user_id),
                {
                    "kind": "presence.changed",
                    "user_id": user_id,
                    "status": status.value,
                    "at": time.time(),
                },
            )
        return status

"""The connection registry and presence aggregation on a real Valkey."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis

from domain.gateway.connection import PresenceStatus
from domain.gateway.presence import aggregate
from domain.gateway.registry import ConnectionInfo, ConnectionRegistry, LiveEntry


def _info(connection_id: str, user_id: str, instance: str = "i1") -> ConnectionInfo:
    return ConnectionInfo(connection_id, user_id, instance, "web", "127.0.0.1", time.time())


async def test_register_lookup_and_unregister(redis: aioredis.Redis) -> None:
    registry = ConnectionRegistry(redis, ttl_seconds=30)
    await registry.save(_info("c1", "alice"))
    await registry.save(_info("c2", "alice", "i2"))
    await registry.save(_info("c3", "bob"))
    await registry.add_channel("c1", "lobby")
    await registry.add_channel("c3", "lobby")

    got = await registry.get("c1")
    assert got is not None
    assert (got.user_id, got.instance_id, got.client_type) == (
        "alice",
        "i1",
        "web",
    )
    assert [c.connection_id for c in await registry.by_user("alice")] == ["c1", "c2"]
    assert await registry.by_channel("lobby") == ["c1", "c3"]

    await registry.set_status("c2", "away")
    assert [c.status for c in await registry.by_user("alice")] == ["online", "away"]

    await registry.remove_channel("c3", "lobby")
    await registry.delete("c1", "alice", ["lobby"])
    assert await registry.get("c1") is None
    assert [c.connection_id for c in await registry.by_user("alice")] == ["c2"]
    assert await registry.by_channel("lobby") == []


async def test_entries_of_a_crashed_instance_expire_unless_refreshed(
    redis: aioredis.Redis,
) -> None:
    registry = ConnectionRegistry(redis, ttl_seconds=1)
    await registry.save(_info("alive", "carol"))
    await registry.save(_info("crashed", "carol", "dead-instance"))
    await registry.add_channel("crashed", "table:1")
    for _ in range(3):
        await asyncio.sleep(0.5)
        refreshed = await registry.refresh([LiveEntry(_info("alive", "carol"), ("table:1",))])
        assert refreshed == 1
    assert [c.connection_id for c in await registry.by_user("carol")] == ["alive"]
    assert await registry.by_channel("table:1") == ["alive"]
    assert await registry.get("crashed") is None


async def test_refresh_writes_back_entries_lost_by_a_redis_restart(redis: aioredis.Redis) -> None:
    registry = ConnectionRegistry(redis, ttl_seconds=30)
    await registry.save(_info("c1", "dan"))
    await redis.flushdb()  # what a Valkey restart without persistence looks like
    await registry.refresh([LiveEntry(_info("c1", "dan"), ("lobby",))])
    assert await registry.by_user("dan") == []  # a plain refresh only renews expiries
    await registry.refresh([LiveEntry(_info("c1", "dan"), ("lobby",))], rewrite=True)
    assert [c.connection_id for c in await registry.by_user("dan")] == ["c1"]
    assert await registry.by_channel("lobby") == ["c1"]


def test_presence_aggregates_over_connections() -> None:
    assert aggregate([]) is PresenceStatus.OFFLINE
    assert aggregate(["away", "away"]) is PresenceStatus.AWAY
    assert aggregate(["away", "online"]) is PresenceStatus.ONLINE

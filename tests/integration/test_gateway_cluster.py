"""Two gateway instances on a real 3-master Valkey Cluster: sharded fan-out, shared limits.

Chat, presence and table resync run on the cluster as the [cluster] cases of
test_gateway_chat.py.
"""

from __future__ import annotations

import json

import pytest
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster

from domain.gateway.broadcast import Broadcaster
from domain.gateway.ratelimit import RateLimit, SlidingWindowLimiter
from domain.gateway.registry import ConnectionRegistry
from infra.redis import RedisClient, connect_redis
from saga.stack.valkey_cluster import EmbeddedValkeyCluster
from tests.eventually import assert_eventually
from tests.integration.gateway_support import (  # noqa: F401  (fixtures)
    RunningServer,
    Store,
    cluster_store,
    game_fixture,
    pair_fixture,
    ws_client,
)

# Table channels picked to land on every master (checked in the test).
_TABLES = [f"c{n}" for n in range(12)]


def _owner(cluster: RedisCluster, channel: str) -> str:
    node = cluster.get_node_from_key(channel)
    assert node is not None
    return str(node.name)


async def _numsub(node: ClusterNode, command: str, channel: str) -> int:
    """`PUBSUB <command> channel` asked of one node through a client of its own.

    The cluster client's reply callback for PUBSUB ...NUMSUB with `target_nodes` changed in
    redis-py 8.2 and fails on one node's reply; a node's own client reads it as it is.
    """
    client = aioredis.Redis(host=node.host, port=int(node.port))
    try:
        reply = await client.execute_command("PUBSUB", command, channel)  # type: ignore[no-untyped-call]
    finally:
        await client.aclose()
    return int(reply[1])


async def _shard_subscribers(cluster: RedisCluster, channels: list[str], count: int) -> None:
    """Each channel has `count` sharded subscribers on the master owning its slot."""
    for channel in channels:
        node = cluster.get_node_from_key(channel)
        assert node is not None
        assert await _numsub(node, "SHARDNUMSUB", channel) == count, channel


async def _classic_subscribers(cluster: RedisCluster, channel: str, count: int) -> None:
    """`channel` has `count` classic subscribers over all the masters."""
    total = 0
    for node in cluster.get_primaries():
        total += await _numsub(node, "NUMSUB", channel)
    assert total == count, total


@pytest.fixture
def store(valkey_cluster: EmbeddedValkeyCluster, cluster_redis: RedisClient) -> Store:
    """Every gateway of this module runs on the (emptied) cluster."""
    return cluster_store(valkey_cluster, cluster_redis)


async def test_a_message_for_a_channel_reaches_both_gateways(
    valkey_cluster: EmbeddedValkeyCluster,
    cluster_redis: RedisClient,
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, b = pair
    assert isinstance(cluster_redis, RedisCluster)
    await cluster_redis.initialize()
    masters = {_owner(cluster_redis, f"table:{t}") for t in _TABLES}
    assert len(masters) == 3, "the table channels should be owned by all three masters"
    broadcaster = Broadcaster(cluster_redis)
    async with ws_client(a, "alice") as alice, ws_client(b, "bob") as bob:
        assert alice.welcome["instance_id"] != bob.welcome["instance_id"]
        channels = ["lobby", *(f"table:{t}" for t in _TABLES)]
        for client in (alice, bob):
            for channel in channels:
                reply = await client.request({"type": "subscribe", "channel": channel})
                assert reply["type"] == "subscribed", reply
        await assert_eventually(lambda: _shard_subscribers(cluster_redis, channels, 2))
        # The gateway's own publishers SPUBLISH: each channel is carried by its own shard.
        for n, channel in enumerate(channels):
            assert await broadcaster.to_channel(channel, {"kind": "tick", "n": n}) == 2
        for client in (alice, bob):
            seen = []
            for _ in channels:
                frame = await client.recv_until(lambda f: f["type"] == "event")
                seen.append((frame["channel"], frame["data"]["n"]))
            assert sorted(seen) == sorted((c, n) for n, c in enumerate(channels))
        # A publisher still using a plain PUBLISH reaches both instances too, once.
        await assert_eventually(lambda: _classic_subscribers(cluster_redis, "lobby", 2))
        await cluster_redis.publish("lobby", json.dumps({"kind": "lobby.update", "tables": 3}))
        for client in (alice, bob):
            event = await client.recv_until(lambda f: f["type"] == "event")
            assert event == {
                "type": "event",
                "channel": "lobby",
                "data": {"kind": "lobby.update", "tables": 3},
            }
        # Everyone, and one user.
        assert await broadcaster.to_all({"kind": "maintenance"}) == 2
        assert await broadcaster.to_user("alice", {"kind": "hello"}) == 1
        for client in (alice, bob):
            event = await client.recv_until(lambda f: f["type"] == "event")
            assert (event["channel"], event["data"]) == ("broadcast", {"kind": "maintenance"})
        event = await alice.recv_until(lambda f: f["type"] == "event")
        assert event == {"type": "event", "channel": "user:alice", "data": {"kind": "hello"}}
        # Unsubscribing on one instance leaves the other one listening.
        await alice.request({"type": "unsubscribe", "channel": "table:c0"})
        assert await broadcaster.to_channel("table:c0", {"kind": "tick", "n": -1}) == 1
        event = await bob.recv_until(lambda f: f["type"] == "event")
        assert (event["channel"], event["data"]["n"]) == ("table:c0", -1)

        registry = ConnectionRegistry(cluster_redis, ttl_seconds=3)

        async def both_registered() -> None:
            live = await registry.by_channel("table:c5")
            assert len(live) == 2, live
            assert [c.user_id for c in await registry.by_user("alice")] == ["alice"]

        await assert_eventually(both_registered, timeout=5)


async def test_rate_limits_are_shared_on_the_cluster(cluster_redis: RedisClient) -> None:
    limiter = SlidingWindowLimiter(cluster_redis)
    rule = RateLimit(limit=3, window_seconds=30)
    decisions = [await limiter.hit(f"user:{n % 2}", rule) for n in range(8)]
    assert [d.allowed for d in decisions] == [True] * 6 + [False] * 2
    assert decisions[-1].retry_after_seconds > 0
    assert await limiter.count("user:0", rule) == 3
    await limiter.reset("user:0")
    assert (await limiter.hit("user:0", rule)).allowed


async def test_fan_out_comes_back_after_the_masters_drop_the_subscribers(
    valkey_cluster: EmbeddedValkeyCluster,
    cluster_redis: RedisClient,
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, b = pair
    broadcaster = Broadcaster(cluster_redis)
    async with ws_client(a, "uma") as uma, ws_client(b, "vic") as vic:
        channels = [f"table:{t}" for t in _TABLES[:6]]
        for client in (uma, vic):
            for channel in channels:
                await client.request({"type": "subscribe", "channel": channel})
        for node in await valkey_cluster.master_nodes():
            alone = connect_redis(f"redis://{node.address}/0")
            await alone.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            await alone.aclose()

        async def all_heard() -> None:
            for channel in channels:
                assert await broadcaster.to_channel(channel, {"kind": "ping"}) == 2

        await assert_eventually(all_heard, timeout=10)
        for client in (uma, vic):
            frame = await client.recv_until(lambda f: f["type"] == "event", timeout=5)
            assert frame["data"] == {"kind": "ping"}

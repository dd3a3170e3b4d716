"""The test suite's Valkey Cluster is a real one: three masters that split the slots."""

from __future__ import annotations

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisClusterException, ResponseError

from infra.redis import RedisClient, connect_redis, is_cluster, publish
from saga.stack.valkey_cluster import EmbeddedValkeyCluster


async def test_three_masters_share_the_slots(
    valkey_cluster: EmbeddedValkeyCluster, cluster_redis: RedisClient
) -> None:
    masters = await valkey_cluster.master_nodes()
    assert len(masters) == 3
    assert is_cluster(cluster_redis)
    for n in range(50):
        await cluster_redis.set(f"account:{n}", n)
    sizes = []
    for node in masters:
        alone = connect_redis(f"redis://{node.address}/0")
        sizes.append(await alone.dbsize())
        await alone.aclose()
    assert sum(sizes) == 50
    assert all(size > 0 for size in sizes), f"fifty keys should land on every master: {sizes}"


async def test_a_script_over_two_slots_is_refused(cluster_redis: RedisClient) -> None:
    script = "return redis.call('SET', KEYS[1], '1') and redis.call('SET', KEYS[2], '1')"
    with pytest.raises((ResponseError, RedisClusterException), match=r"(?i)slot"):
        await cluster_redis.eval(script, 2, "{a}one", "{b}two")
    assert await cluster_redis.eval(script, 2, "{a}one", "{a}two") is not None


async def test_the_platforms_publish_is_sharded_on_a_cluster(
    valkey_cluster: EmbeddedValkeyCluster, cluster_redis: RedisClient
) -> None:
    assert isinstance(cluster_redis, RedisCluster)
    channel = "user:alice"
    await cluster_redis.initialize()
    owner = cluster_redis.get_node_from_key(channel)
    assert owner is not None
    masters = await valkey_cluster.master_nodes()
    other = next(m for m in masters if m.address != f"{owner.host}:{owner.port}")
    at_owner = connect_redis(f"redis://{owner.host}:{owner.port}/0")
    elsewhere = connect_redis(f"redis://{other.address}/0")
    shard, classic = at_owner.pubsub(), elsewhere.pubsub()
    try:
        await shard.ssubscribe(channel)
        await classic.subscribe(channel)
        assert await shard.get_message(timeout=1) is not None  # the ssubscribe confirmation
        assert await classic.get_message(timeout=1) is not None
        # SPUBLISH: only the slot owner's shard subscriber hears it, not the cluster bus.
        assert await publish(cluster_redis, channel, "hello") == 1
        heard = await shard.get_message(ignore_subscribe_messages=True, timeout=2)
        assert heard is not None
        assert heard["data"] == b"hello"
        assert await classic.get_message(ignore_subscribe_messages=True, timeout=0.5) is None
    finally:
        await shard.aclose()
        await classic.aclose()
        await at_owner.aclose()
        await elsewhere.aclose()

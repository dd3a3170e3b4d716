"""The test suite's Valkey Cluster is a real one: three masters that split the slots."""

from __future__ import annotations

import pytest
from redis.exceptions import RedisClusterException, ResponseError

from infra.redis import RedisClient, connect_redis, is_cluster
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

"""One way to open the platform's Redis: a single server or a Redis/Valkey Cluster.

`REDIS_URL` names the server (or any node of a cluster); `REDIS_CLUSTER=true` says it is a
cluster, and the client then discovers the other nodes and routes each command to the
master that owns its key's hash slot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.backoff import NoBackoff
from redis.retry import Retry

if TYPE_CHECKING:
    from infra.settings import PlatformSettings

# Both clients speak the same commands; code that must tell them apart asks `is_cluster`.
RedisClient = aioredis.Redis | RedisCluster


def connect_redis(
    url: str,
    *,
    cluster: bool = False,
    max_connections: int | None = None,
    socket_timeout: float | None = None,
    socket_connect_timeout: float | None = None,
    retries: int | None = None,
    blocking: bool = False,
    **options: Any,
) -> RedisClient:
    """A client for `url`; with `cluster` a cluster client seeded from that node.

    `blocking` makes a single-server client wait for a free connection when
    `max_connections` are in use instead of failing (a cluster client always waits).
    """
    timeouts: dict[str, Any] = {
        key: value
        for key, value in (
            ("socket_timeout", socket_timeout),
            ("socket_connect_timeout", socket_connect_timeout),
        )
        if value is not None
    }
    if cluster:
        cluster_options: dict[str, Any] = {**timeouts, **options}
        if max_connections is not None:
            cluster_options["max_connections"] = max_connections
        if retries is not None:
            cluster_options["retry"] = Retry(NoBackoff(), retries)
        return RedisCluster.from_url(url, **cluster_options)
    single: dict[str, Any] = {**timeouts, **options}
    if retries is not None:
        single["retry"] = Retry(NoBackoff(), retries)
    if blocking:
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections or 50, **timeouts
        )
        return aioredis.Redis(
            connection_pool=pool, **{k: v for k, v in single.items() if k not in timeouts}
        )
    if max_connections is not None:
        single["max_connections"] = max_connections
    return aioredis.Redis.from_url(url, **single)


def is_cluster(client: RedisClient) -> bool:
    """True when `client` talks to a cluster (commands must then stay within one slot)."""
    return isinstance(client, RedisCluster)


def platform_redis(settings: PlatformSettings, **options: Any) -> RedisClient:
    """The platform's Redis as configured: `REDIS_URL` (or the embedded Valkey), `REDIS_CLUSTER`."""
    return connect_redis(settings.resolved_redis_url, cluster=settings.redis_cluster, **options)


async def publish(redis: RedisClient, channel: str, message: str) -> int:
    """PUBLISH, or on a cluster SPUBLISH; returns the subscribers reached.

    On a cluster a plain PUBLISH is copied by the cluster bus to every node, whoever listens;
    SPUBLISH goes only to the master that owns the channel's slot, where the gateways hold
    their shard subscriptions (domain/gateway/pubsub.py). Every publisher of the platform
    goes through here, so fan-out scales with the masters.
    """
    if is_cluster(redis):
        return int(await redis.spublish(channel, message))
    return int(await redis.publish(channel, message))


async def get_many(redis: RedisClient, keys: list[str]) -> list[Any]:
    """GET of each of `keys`, in order: one MGET, or on a cluster one per slot (not atomic)."""
    if not keys:
        return []
    if isinstance(redis, RedisCluster):
        return list(await redis.mget_nonatomic(keys))
    return list(await redis.mget(keys))


def failed_in_client(exc: BaseException) -> bool:
    """Whether `exc` was raised from inside redis-py itself rather than by our code.

    On a cluster, while a master fails over, redis-py can tear down a connection that another
    task is writing to, and that task fails with an AttributeError from the connection code.
    The store did not answer, as with a ConnectionError: fronts answer UNAVAILABLE (the call
    may or may not have run; its idempotency key makes the retry safe), not INTERNAL.
    """
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    return last is not None and "/redis/" in last.tb_frame.f_code.co_filename.replace("\\", "/")

"""Settings of the balance service process and its worker."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from infra.redis import RedisClient, connect_redis
from infra.settings import PlatformSettings


class BalanceSettings(PlatformSettings):
    """The platform's addresses plus the balance service's own knobs."""

    balance_house_account_id: str = "house"
    # Fail fast when Redis is down: writes answer 503 / UNAVAILABLE within about this long.
    balance_redis_timeout_seconds: float = 1.0
    balance_economy_sample_seconds: float = 15.0
    balance_expiry_interval_seconds: int = 5
    balance_verification_interval_seconds: int = 60


def balance_redis(settings: BalanceSettings) -> RedisClient:
    """A Redis client that gives up quickly, so an outage becomes UNAVAILABLE, not a hang.

    With REDIS_CLUSTER, a cluster client seeded from REDIS_URL: every script touches one hash
    slot (keys.py), and the client sends each to the master that owns it.
    """
    timeout = settings.balance_redis_timeout_seconds
    if settings.redis_cluster:
        return connect_redis(
            settings.resolved_redis_url,
            cluster=True,
            max_connections=64,
            socket_timeout=timeout,
            socket_connect_timeout=timeout / 2,
        )
    # A blocking pool queues bursts for a free connection instead of failing them.
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.resolved_redis_url,
        max_connections=64,
        timeout=timeout,
        socket_timeout=timeout,
        socket_connect_timeout=timeout / 2,
    )
    return aioredis.Redis(connection_pool=pool, retry=Retry(NoBackoff(), 1))

"""Settings of the balance service process and its worker."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from infra.settings import PlatformSettings


class ClusterNotSupported(RuntimeError):
    """REDIS_CLUSTER is set, and the balance scripts need one Redis."""


class BalanceSettings(PlatformSettings):
    """The platform's addresses plus the balance service's own knobs."""

    balance_house_account_id: str = "house"
    # Fail fast when Redis is down: writes answer 503 / UNAVAILABLE within about this long.
    balance_redis_timeout_seconds: float = 1.0
    balance_economy_sample_seconds: float = 15.0
    balance_expiry_interval_seconds: int = 5
    balance_verification_interval_seconds: int = 60


def balance_redis(settings: BalanceSettings) -> aioredis.Redis:
    """A Redis client that gives up quickly, so an outage becomes UNAVAILABLE, not a hang.

    The money scripts still touch keys of several hash slots in one call, which a Redis
    Cluster refuses (CROSSSLOT) mid-call; with REDIS_CLUSTER set the service does not start.
    """
    if settings.redis_cluster:
        raise ClusterNotSupported(
            "the balance service does not run on a Redis Cluster yet: its scripts touch keys "
            "of several hash slots (see docs/balance.md); point it at one Redis or Valkey "
            "(unset REDIS_CLUSTER)"
        )
    # A blocking pool queues bursts for a free connection instead of failing them.
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.resolved_redis_url,
        max_connections=64,
        timeout=settings.balance_redis_timeout_seconds,
        socket_timeout=settings.balance_redis_timeout_seconds,
        socket_connect_timeout=settings.balance_redis_timeout_seconds / 2,
    )
    return aioredis.Redis(connection_pool=pool, retry=Retry(NoBackoff(), 1))

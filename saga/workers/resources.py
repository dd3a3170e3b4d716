"""What every worker is built from: the shared clients of one worker process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import httpx
import redis.asyncio as aioredis
from temporalio.client import Client
from temporalio.worker import Worker

from infra.settings import PlatformSettings


@dataclass
class WorkerResources:
    """Clients a worker's activities receive in their constructors."""

    settings: PlatformSettings
    client: Client
    db: asyncpg.Pool
    # Redis or a RedisCluster (infra.redis.platform_redis), typed as the single client its
    # consumers still name; the cluster client speaks the same commands.
    redis: aioredis.Redis
    http: httpx.AsyncClient


WorkerFactory = Callable[[WorkerResources], Worker]

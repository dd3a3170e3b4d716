"""Real PostgreSQL, Valkey and Temporal servers, started once per test session.

Each test is isolated: tables are truncated and Redis flushed before it, and every Temporal
test uses its own task queue. The servers run on free ports in a temporary directory, so the
suite can run while `saga up` is running.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from infra.db.migrate import apply_migrations
from infra.db.pool import create_pool
from infra.ports import free_port
from infra.redis import RedisClient, connect_redis
from infra.settings import PlatformSettings
from saga.stack.postgres import EmbeddedPostgres
from saga.stack.temporal import TemporalDevServer, load_dev_server_config, test_server_binary
from saga.stack.temporal_setup import SEARCH_ATTRIBUTE_TYPES
from saga.stack.valkey import EmbeddedValkey
from saga.stack.valkey_cluster import EmbeddedValkeyCluster


@dataclass(frozen=True)
class SessionStack:
    """Where the session's servers answer."""

    database_url: str
    redis_url: str
    temporal_address: str
    home: Path

    def settings(self, **overrides: object) -> PlatformSettings:
        """Platform settings pointed at this stack."""
        values: dict[str, object] = {
            "database_url": self.database_url,
            "redis_url": self.redis_url,
            "temporal_address": self.temporal_address,
            "saga_home": self.home,
        }
        values.update(overrides)
        return PlatformSettings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def stack_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway SAGA_HOME for the session's servers."""
    return tmp_path_factory.mktemp("saga-home")


@pytest.fixture(scope="session")
async def stack(stack_home: Path) -> AsyncIterator[SessionStack]:
    """PostgreSQL (fsync off), Valkey (no persistence) and a headless Temporal dev server."""
    logs = stack_home / "logs"
    postgres = EmbeddedPostgres(stack_home / "postgres", free_port(), log_dir=logs, fsync=False)
    valkey = EmbeddedValkey(stack_home / "valkey", free_port(), log_dir=logs, persistent=False)
    temporal = TemporalDevServer(
        stack_home / "temporal", free_port(), free_port(), log_dir=logs, headless=True
    )
    parts = (postgres, valkey, temporal)
    try:
        await asyncio.gather(*(p.start() for p in parts))
        conn = await asyncpg.connect(postgres.dsn)
        try:
            await apply_migrations(conn)
        finally:
            await conn.close()
        yield SessionStack(postgres.dsn, valkey.url, temporal.address, stack_home)
    finally:
        await asyncio.gather(*(p.stop() for p in parts), return_exceptions=True)


@pytest.fixture(scope="session")
async def db_pool(stack: SessionStack) -> AsyncIterator[asyncpg.Pool]:
    """One pool for the session."""
    pool = await create_pool(stack.database_url, max_size=20)
    yield pool
    await pool.close()


@pytest.fixture
async def db(db_pool: asyncpg.Pool) -> asyncpg.Pool:
    """The pool, with every application table emptied before the test."""
    async with db_pool.acquire() as conn:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'schema_migrations'"
        )
        if tables:
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    return db_pool


@pytest.fixture
async def redis(stack: SessionStack) -> AsyncIterator[aioredis.Redis]:
    """A client on an emptied Valkey database."""
    client = aioredis.Redis.from_url(stack.redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
async def temporal_client(stack: SessionStack) -> Client:
    """A client of the session's dev server."""
    return await Client.connect(stack.temporal_address)


@pytest.fixture
def task_queue() -> str:
    """A task queue of the test's own, so workers of other tests never take its tasks."""
    return f"test-{uuid.uuid4()}"


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server, for workflows whose timers should not take real time."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_binary()
    )
    # The platform's own search attributes (temporal/dev-server.yaml), as on the dev server;
    # this server cannot list them, only add them.
    wanted = load_dev_server_config().get("search_attributes", {})
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={name: SEARCH_ATTRIBUTE_TYPES[kind] for name, kind in wanted.items()},
        )
    )
    yield env
    await env.shutdown()


@pytest.fixture
def settings(stack: SessionStack) -> PlatformSettings:
    """Platform settings pointed at the session's servers."""
    return stack.settings()


@pytest.fixture(scope="session")
async def valkey_cluster(stack_home: Path) -> AsyncIterator[EmbeddedValkeyCluster]:
    """A real 3-master Valkey Cluster (no replicas, no persistence), started once when asked."""
    cluster = EmbeddedValkeyCluster(stack_home / "valkey-cluster", masters=3)
    try:
        await cluster.start()
        yield cluster
    finally:
        await cluster.stop()


@pytest.fixture
async def cluster_redis(valkey_cluster: EmbeddedValkeyCluster) -> AsyncIterator[RedisClient]:
    """A cluster client on the emptied cluster."""
    await valkey_cluster.flush()
    client = connect_redis(valkey_cluster.url, cluster=True)
    yield client
    await client.aclose()


@pytest.fixture
def cluster_settings(
    stack: SessionStack, valkey_cluster: EmbeddedValkeyCluster
) -> PlatformSettings:
    """Platform settings pointed at the session's servers, with Redis on the cluster."""
    return stack.settings().model_copy(
        update={"redis_url": valkey_cluster.url, "redis_cluster": True}
    )

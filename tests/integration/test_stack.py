"""The embedded stack: real servers, migrations applied once, clear one-line errors."""

from __future__ import annotations

import socket
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

from infra.db.migrate import MigrationError, apply_migrations, discover
from infra.settings import PlatformSettings
from saga.stack.embedded import EmbeddedStack
from saga.stack.process import StackError, ensure_port_free
from tests.conftest import SessionStack


async def test_servers_answer(
    db: asyncpg.Pool, redis: aioredis.Redis, temporal_client: Client
) -> None:
    assert await db.fetchval("SELECT 1") == 1
    assert await redis.ping()
    info = await temporal_client.workflow_service.get_system_info(GetSystemInfoRequest())
    assert info.server_version


async def test_search_attributes_are_registered(temporal_client: Client) -> None:
    from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest

    response = await temporal_client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default")
    )
    assert {"OrderStatus", "CustomerId", "OrderTotalCents", "FailureReason"} <= set(
        response.custom_attributes
    )


async def test_migrations_apply_once_and_are_recorded(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        assert await apply_migrations(conn) == []
        versions = [
            r["version"]
            for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        ]
    assert versions == [m.version for m in discover()]


async def test_edited_migration_is_refused(db: asyncpg.Pool, tmp_path: Path) -> None:
    for migration in discover():
        body = migration.sql + ("\n-- edited\n" if migration.version == 1 else "")
        (tmp_path / f"{migration.version:04d}_{migration.name}.sql").write_text(body)
    async with db.acquire() as conn:
        with pytest.raises(MigrationError, match="edited after it was applied"):
            await apply_migrations(conn, tmp_path)


def test_badly_named_migration_is_refused(tmp_path: Path) -> None:
    (tmp_path / "init.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        discover(tmp_path)


def test_taken_port_is_one_clear_line() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(StackError) as caught:
            ensure_port_free("127.0.0.1", port, "Temporal frontend", "TEMPORAL_PORT")
    message = str(caught.value)
    assert "\n" not in message
    assert f"port {port}" in message
    assert "TEMPORAL_PORT" in message


async def test_unreachable_external_service_is_one_clear_line(
    stack: SessionStack, tmp_path: Path
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    settings = PlatformSettings(
        temporal_address=stack.temporal_address,
        database_url=stack.database_url,
        redis_url=f"redis://127.0.0.1:{dead_port}/0",
        saga_home=tmp_path,
    )
    with pytest.raises(StackError) as caught:
        await EmbeddedStack(settings, tmp_path).start()
    message = str(caught.value)
    assert "\n" not in message
    assert "REDIS_URL" in message
    assert "unreachable" in message


async def test_search_attributes_registered_once_on_a_new_namespace(
    temporal_client: Client,
) -> None:
    import uuid
    from datetime import timedelta

    from google.protobuf.duration_pb2 import Duration
    from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest

    from saga.stack.temporal import load_dev_server_config
    from saga.stack.temporal_setup import register_search_attributes

    namespace = f"setup-{uuid.uuid4().hex[:8]}"
    retention = Duration()
    retention.FromTimedelta(timedelta(days=1))
    await temporal_client.workflow_service.register_namespace(
        RegisterNamespaceRequest(namespace=namespace, workflow_execution_retention_period=retention)
    )
    wanted = sorted(load_dev_server_config()["search_attributes"])
    assert await register_search_attributes(temporal_client, namespace) == wanted
    assert await register_search_attributes(temporal_client, namespace) == []

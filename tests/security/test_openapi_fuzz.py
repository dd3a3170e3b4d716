"""Schemathesis over every HTTP front's OpenAPI spec, against real PostgreSQL and Valkey.

Each front runs in-process (schemathesis' ASGI transport, with the app's real lifespan); what
it calls runs for real on loopback (the edge's payments front, the gateway's balance gRPC).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import redis.asyncio as aioredis
from temporalio.client import Client

from apis import inventory, orders
from apis.balance.rest import app as balance_http
from apis.balance.rpc.server import start_grpc_server
from apis.checkout import edge
from apis.events import create_app as events_app
from apis.game.app import create_app as game_app
from apis.gateway.app import create_app as gateway_app
from domain.balance.book import BalanceBook
from domain.events.settings import EventSettings
from domain.game.settings import GameSettings
from infra.settings import DEV_JWT_SECRET
from tests.checkout_support import seed_catalog
from tests.conftest import SessionStack
from tests.game_support import table_worker
from tests.integration.checkout_fronts import payments_front, service_auth
from tests.integration.gateway_support import gateway_settings
from tests.security.openapi_fuzz import fuzz_app
from tests.security.served import served

# Cases per operation and generation mode (positive, negative): bounded for `make test`.
EXAMPLES = 15


async def _fuzz(app: object, headers: dict[str, str] | None = None, **kwargs: object) -> None:
    sent = await asyncio.to_thread(
        fuzz_app,
        app,
        service_auth() if headers is None else headers,
        examples=EXAMPLES,
        category="openapi",
        **kwargs,  # type: ignore[arg-type]
    )
    assert sent, "the spec lists no operation"
    assert all(count >= 1 for count in sent.values()), sent


async def test_inventory_front(stack: SessionStack, db: asyncpg.Pool) -> None:
    await seed_catalog(db)
    await _fuzz(inventory.create_app(stack.settings()))


async def test_orders_front(stack: SessionStack, db: asyncpg.Pool) -> None:
    await _fuzz(orders.create_app(stack.settings()))


async def test_payments_front(stack: SessionStack, db: asyncpg.Pool) -> None:
    await _fuzz(payments_front(stack))


async def test_edge_front(stack: SessionStack, db: asyncpg.Pool, redis: aioredis.Redis) -> None:
    await seed_catalog(db)
    async with served(payments_front(stack)) as payments_url:
        await _fuzz(edge.create_app(stack.settings(payments_url=payments_url)))


async def test_balance_http_front(stack: SessionStack, redis: aioredis.Redis) -> None:
    book = BalanceBook.build(aioredis.Redis.from_url(stack.redis_url))
    app = balance_http.create_app(book, DEV_JWT_SECRET)

    @asynccontextmanager
    async def lifespan(_: object) -> AsyncIterator[None]:
        # The book's client is first used, and closed, on schemathesis' event loop.
        yield
        await book.redis.aclose()

    app.router.lifespan_context = lifespan
    await _fuzz(app)


async def test_gateway_http(stack: SessionStack, redis: aioredis.Redis) -> None:
    grpc_server, _, port = await start_grpc_server(
        BalanceBook.build(redis), DEV_JWT_SECRET, "127.0.0.1:0"
    )
    try:
        settings = gateway_settings(stack.redis_url, balance_grpc_address=f"127.0.0.1:{port}")
        # /ready answers 503 while its upstreams (edge, balance HTTP) are not running: its
        # contract, and it takes no input.
        await _fuzz(gateway_app(settings), skip=["GET /ready"])
    finally:
        await grpc_server.stop(grace=None)


async def test_game_front(
    stack: SessionStack, redis: aioredis.Redis, temporal_client: Client, task_queue: str
) -> None:
    settings = GameSettings(
        redis_url=stack.redis_url,
        temporal_address=stack.temporal_address,
        # The player profiles it also serves live in PostgreSQL.
        database_url=stack.database_url,
        game_task_queue=task_queue,
    )
    # Tables the fuzzer opens run for real on this worker (with the balance not consulted).
    async with table_worker(temporal_client, task_queue, redis):
        await _fuzz(game_app(settings))


async def test_event_front(stack: SessionStack, db: asyncpg.Pool, redis: aioredis.Redis) -> None:
    settings = EventSettings(
        redis_url=stack.redis_url, database_url=stack.database_url, event_block_ms=100
    )
    # Its consumer runs too: a session to store, so the reads have a row to answer with.
    await redis.xadd(
        "events:sessions",
        {"type": "SESSION_STARTED", "connection_id": "c", "user_id": "alice", "at": "1.5e9"},
    )
    await _fuzz(events_app(settings))

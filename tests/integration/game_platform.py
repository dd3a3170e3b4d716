"""A real game platform for tests: balance over gRPC, the game front, a table worker, a gateway."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis
import uvicorn
from temporalio.client import Client

from apis.balance.rpc.server import start_grpc_server
from apis.game.app import create_app
from clients.balance import BalanceClient
from domain.balance.book import BalanceBook
from domain.balance.commands import Credit
from domain.game.money import BalanceMode
from domain.game.settings import GameSettings
from infra.ports import free_port
from infra.serving import HostedServer
from infra.settings import DEV_JWT_SECRET
from infra.tokens import ServiceToken
from tests.conftest import SessionStack
from tests.game_support import table_worker
from tests.integration.gateway_support import (
    RunningServer,
    _serve,
    gateway_settings,
    running_gateway,
)


@dataclass
class Platform:
    """The parts of one test platform."""

    gateway: RunningServer
    game: RunningServer
    book: BalanceBook
    redis: aioredis.Redis


@contextlib.asynccontextmanager
async def _game_front(settings: GameSettings) -> AsyncIterator[RunningServer]:
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    running = await _serve(HostedServer(config), port)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture(name="platform")
async def game_platform(
    stack: SessionStack, redis: aioredis.Redis, temporal_client: Client, task_queue: str
) -> AsyncIterator[Platform]:
    book = BalanceBook.build(redis)
    for user in ("ann", "bob"):
        await book.accounts.credit(
            Credit(account_id=user, amount=2_000, idempotency_key=f"fund-{user}")
        )
    server, _, port = await start_grpc_server(book, DEV_JWT_SECRET, "127.0.0.1:0")
    balance = BalanceClient(f"127.0.0.1:{port}", ServiceToken(DEV_JWT_SECRET, "game"))
    settings = GameSettings(
        redis_url=stack.redis_url,
        temporal_address=stack.temporal_address,
        game_task_queue=task_queue,
        jwt_secret=DEV_JWT_SECRET,
    )
    async with (
        table_worker(
            temporal_client, task_queue, redis, balance=balance, mode=BalanceMode.REQUIRED
        ),
        _game_front(settings) as game,
        running_gateway(gateway_settings(stack.redis_url, game_url=game.url)) as gateway,
    ):
        yield Platform(gateway, game, book, redis)
    await balance.close()
    await server.stop(grace=None)

"""`saga api balance`: the HTTP front on 3002 and the gRPC front on 50051 over one book."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from apis.balance.rest.app import create_app
from apis.balance.rpc.server import start_grpc_server
from domain.balance.book import BalanceBook
from domain.balance.settings import BalanceSettings, balance_redis
from domain.errors import Unavailable
from infra.event_loop import freeze_startup_heap
from infra.serving import hosted_server, serve_until_signalled
from infra.telemetry import configure_telemetry, untraced

log = logging.getLogger(__name__)


async def _sample_economy(book: BalanceBook, every_seconds: float) -> None:
    while True:
        try:
            with untraced():
                await book.economy.sample()
        except Exception as exc:
            log.warning("economy sample failed: %s", exc)
        await asyncio.sleep(every_seconds)


async def run_balance_service(settings: BalanceSettings) -> None:
    """Serve both fronts until SIGINT/SIGTERM, then drain and close."""
    configure_telemetry("balance", settings)
    redis = balance_redis(settings)
    book = BalanceBook.build(redis, house_account_id=settings.balance_house_account_id)
    with contextlib.suppress(Unavailable):
        # Redis may come up later: the scripts then load on their first call.
        await book.scripts.load()
    secret = settings.jwt_secret.get_secret_value()
    grpc_server, health, _ = await start_grpc_server(
        book, secret, f"{settings.bind_host}:{settings.balance_grpc_port}"
    )
    http = hosted_server(create_app(book, secret), settings.bind_host, settings.balance_http_port)
    freeze_startup_heap()

    async def drain() -> None:
        await health.enter_graceful_shutdown()
        await grpc_server.stop(grace=5)

    try:
        await serve_until_signalled(
            servers=[http],
            tasks=[_sample_economy(book, settings.balance_economy_sample_seconds)],
            drain=drain,
            grace_seconds=5,
        )
    finally:
        await redis.aclose()

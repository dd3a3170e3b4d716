"""The gateway's composition root: every client and service, built once per process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import httpx
import redis.asyncio as aioredis

from apis.gateway.settings import GatewaySettings
from clients.balance.client import BalanceClient
from clients.game import GameClient, GameMuteChecker
from domain.gateway.broadcast import Broadcaster
from domain.gateway.chat import ChatService, ChatStore
from domain.gateway.hub import Hub
from domain.gateway.presence import PresenceService
from domain.gateway.ratelimit import RateLimit, SlidingWindowLimiter
from domain.gateway.registry import ConnectionRegistry
from domain.gateway.sessions import SessionEvents
from domain.gateway.tables import TableEventLog
from infra.redis import RedisClient, platform_redis
from infra.tokens import ServiceToken


@dataclass
class Gateway:
    """Everything the gateway's routes and socket handlers use."""

    settings: GatewaySettings
    redis: RedisClient
    http: httpx.AsyncClient
    hub: Hub
    registry: ConnectionRegistry
    limiter: SlidingWindowLimiter
    broadcaster: Broadcaster
    chat: ChatService
    presence: PresenceService
    sessions: SessionEvents
    tables: TableEventLog
    game: GameClient
    balance: BalanceClient
    # How many closed sockets do their Redis bookkeeping at once (apis/gateway/websocket.py).
    session_ends: asyncio.Semaphore

    @property
    def user_limit(self) -> RateLimit:
        """HTTP requests per user."""
        s = self.settings
        return RateLimit(s.rate_limit_per_user, s.rate_limit_window_seconds)

    @property
    def ip_limit(self) -> RateLimit:
        """HTTP requests per client address."""
        s = self.settings
        return RateLimit(s.rate_limit_per_ip, s.rate_limit_window_seconds)

    @property
    def frame_limit(self) -> RateLimit:
        """WebSocket frames per connection."""
        s = self.settings
        return RateLimit(s.ws_rate_limit_per_connection, s.ws_rate_limit_window_seconds)


@contextlib.asynccontextmanager
async def open_gateway(settings: GatewaySettings) -> AsyncIterator[Gateway]:
    """Connect to Redis and the upstreams, start the hub; close everything on exit."""
    pool: aioredis.BlockingConnectionPool | None = None
    redis: RedisClient
    if settings.redis_cluster:
        # A cluster client: a pool per master, which waits for a free connection when full.
        redis = platform_redis(
            settings,
            max_connections=settings.redis_max_connections,
            socket_connect_timeout=2,
            socket_timeout=5,
            health_check_interval=10,
        )
    else:
        # A blocking pool: a burst of connects waits for a Redis connection instead of failing.
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.resolved_redis_url,
            max_connections=settings.redis_max_connections,
            timeout=5,
            socket_connect_timeout=2,
            socket_timeout=5,
            health_check_interval=10,
        )
        redis = aioredis.Redis(connection_pool=pool)
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.upstream_timeout_seconds, connect=2.0),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        follow_redirects=False,
    )
    registry = ConnectionRegistry(redis, settings.registry_ttl_seconds)
    broadcaster = Broadcaster(redis)
    game_http = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=settings.upstream_timeout_seconds, connect=2.0),
        connector=aiohttp.TCPConnector(limit=200, limit_per_host=200),
    )
    game = GameClient(
        game_http,
        settings.game_url,
        ServiceToken(settings.jwt_secret.get_secret_value(), "gateway"),
    )
    hub = Hub(
        redis,
        registry,
        settings.gateway_instance_id,
        heartbeat_timeout_seconds=settings.ws_heartbeat_timeout_seconds,
    )
    gateway = Gateway(
        settings=settings,
        redis=redis,
        http=http,
        hub=hub,
        registry=registry,
        limiter=SlidingWindowLimiter(redis),
        broadcaster=broadcaster,
        chat=ChatService(
            ChatStore(redis, settings.chat_retention_seconds),
            broadcaster,
            GameMuteChecker(game) if settings.chat_mute_check else None,
            max_length=settings.chat_max_length,
        ),
        presence=PresenceService(redis, registry, broadcaster),
        sessions=SessionEvents(redis, settings.gateway_instance_id),
        tables=TableEventLog(redis, settings.table_stream_max_length),
        game=game,
        balance=BalanceClient(
            settings.resolved_balance_grpc_address,
            ServiceToken(settings.jwt_secret.get_secret_value(), "gateway"),
            timeout_seconds=5.0,
        ),
        # Half the pool: live sockets' frames keep the other half.
        session_ends=asyncio.Semaphore(max(1, settings.redis_max_connections // 2)),
    )
    await hub.start()
    try:
        yield gateway
    finally:
        await hub.stop()
        await gateway.balance.close()
        await game_http.close()
        await http.aclose()
        await redis.aclose()
        if pool is not None:
            await pool.aclose()

"""A slow consumer is cut off without slowing others; a Redis restart is survived."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import redis.asyncio as aioredis
from websockets.exceptions import ConnectionClosed

from domain.gateway.registry import ConnectionRegistry
from infra.ports import free_port
from saga.stack.valkey import EmbeddedValkey
from tests.conftest import SessionStack
from tests.eventually import assert_eventually
from tests.integration.gateway_support import Client, gateway_settings, running_gateway, ws_client


async def test_a_slow_consumer_is_disconnected_and_never_slows_the_others(
    stack: SessionStack, redis: aioredis.Redis
) -> None:
    settings = gateway_settings(
        stack.redis_url, ws_send_queue_size=16, ws_close_timeout_seconds=0.5
    )
    count, pad = 600, "x" * 32_000
    async with (
        running_gateway(settings) as gateway,
        ws_client(gateway, "fast") as fast,
        # The slow client buffers one frame, then stops reading: TCP backpressure does the rest.
        ws_client(gateway, "slow", max_queue=1) as slow,
    ):
        for client in (fast, slow):
            await client.request({"type": "subscribe", "channel": "table:hot"})

        async def drain(client: Client) -> int:
            received = 0
            while received < count:
                frame = await client.recv(timeout=10)
                if frame["type"] == "event":
                    received += 1
            return received

        reader = asyncio.create_task(drain(fast))
        loop = asyncio.get_running_loop()
        started = loop.time()
        for i in range(count):
            await redis.publish("table:hot", json.dumps({"n": i, "pad": pad}))
        assert await reader == count
        assert loop.time() - started < 20

        registry = ConnectionRegistry(redis, ttl_seconds=3)

        async def slow_is_gone() -> None:
            assert await registry.by_user("slow") == []
            async with httpx.AsyncClient(base_url=gateway.url) as http:
                health = (await http.get("/health")).json()
            assert health["connections"] == 1
            metrics = (await http_get(gateway.url + "/metrics")).text
            assert 'saga_gateway_disconnects_total{code="4008"}' in metrics

        await assert_eventually(slow_is_gone, timeout=10)
        frames = 0
        try:
            while True:
                await slow.recv(timeout=5)
                frames += 1
        except (ConnectionClosed, TimeoutError):
            pass
        assert frames < count  # it was cut off long before the end
        assert (await fast.request({"type": "ping"}))["type"] == "pong"


async def http_get(url: str) -> httpx.Response:
    """GET one URL."""
    async with httpx.AsyncClient() as http:
        return await http.get(url)


async def test_subscriptions_and_registry_survive_a_redis_restart(tmp_path: Path) -> None:
    valkey = EmbeddedValkey(tmp_path / "valkey", free_port(), persistent=False)
    await valkey.start()
    client = aioredis.Redis.from_url(valkey.url)
    try:
        settings = gateway_settings(valkey.url)
        async with running_gateway(settings) as gateway, ws_client(gateway, "zoe") as zoe:
            await zoe.request({"type": "subscribe", "channel": "lobby"})
            await client.publish("lobby", json.dumps({"n": "before"}))
            assert (await zoe.recv_until(lambda f: f["type"] == "event"))["data"] == {"n": "before"}

            await valkey.stop()
            # The socket stays up while Redis is down; pings are still answered.
            assert (await zoe.request({"type": "ping"}, timeout=10))["type"] == "pong"
            await valkey.start()
            await client.aclose()
            client = aioredis.Redis.from_url(valkey.url)

            async def delivered_again() -> None:
                await client.publish("lobby", json.dumps({"n": "after"}))
                try:
                    frame = await zoe.recv_until(lambda f: f["type"] == "event", timeout=0.5)
                except TimeoutError:
                    raise AssertionError("not delivered yet") from None
                assert frame["data"] == {"n": "after"}

            await assert_eventually(delivered_again, timeout=15, interval=0.2)
            registry = ConnectionRegistry(client, ttl_seconds=3)

            async def registered_again() -> None:
                found = await registry.by_user("zoe")
                assert [c.connection_id for c in found] == [zoe.welcome["connection_id"]]

            await assert_eventually(registered_again, timeout=10)
    finally:
        await client.aclose()
        await valkey.stop()

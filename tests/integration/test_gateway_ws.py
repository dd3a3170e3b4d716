"""The WebSocket over real sockets, two gateway instances sharing one Valkey."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from domain.gateway.broadcast import Broadcaster
from domain.gateway.registry import ConnectionRegistry
from domain.gateway.sessions import SESSION_STREAM
from infra.settings import DEV_JWT_SECRET
from tests.conftest import SessionStack
from tests.eventually import assert_eventually
from tests.integration.gateway_support import (
    Client,
    RunningServer,
    gateway_settings,
    running_gateway,
    user_token,
    ws_client,
)


@pytest.fixture
async def pair(
    stack: SessionStack, redis: aioredis.Redis
) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    """Two gateway instances on one Valkey."""
    async with (
        running_gateway(gateway_settings(stack.redis_url)) as a,
        running_gateway(gateway_settings(stack.redis_url)) as b,
    ):
        yield a, b


async def _close_code(url: str, first: str | None = None, timeout: float = 5.0) -> int | None:
    async with connect(url) as ws:
        if first is not None:
            await ws.send(first)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), timeout)
        return closed.value.rcvd.code if closed.value.rcvd else None


async def test_a_publish_on_one_instance_reaches_subscribers_on_the_other(
    pair: tuple[RunningServer, RunningServer], redis: aioredis.Redis
) -> None:
    a, b = pair
    async with ws_client(a, "alice") as alice, ws_client(b, "bob") as bob:
        assert alice.welcome["instance_id"] != bob.welcome["instance_id"]
        for client in (alice, bob):
            reply = await client.request({"type": "subscribe", "channel": "lobby"})
            assert reply["type"] == "subscribed"
        await redis.publish("lobby", json.dumps({"kind": "lobby.update", "tables": 3}))
        for client in (alice, bob):
            event = await client.recv_until(lambda f: f["type"] == "event")
            assert event == {
                "type": "event",
                "channel": "lobby",
                "data": {"kind": "lobby.update", "tables": 3},
            }


async def test_order_status_on_the_user_channel_reaches_that_user_only(
    pair: tuple[RunningServer, RunningServer], redis: aioredis.Redis
) -> None:
    a, b = pair
    async with ws_client(a, "carol") as carol, ws_client(b, "dave") as dave:
        assert "user:carol" in carol.welcome["channels"]
        status = {
            "kind": "order.status",
            "order_ledger_id": "o-1",
            "status": "CONFIRMED",
            "failure_reason": None,
            "at": "2025-01-01T00:00:00Z",
        }
        await redis.publish("user:carol", json.dumps(status))
        event = await carol.recv_until(lambda f: f["type"] == "event")
        assert event == {"type": "event", "channel": "user:carol", "data": status}
        denied = await dave.request({"type": "subscribe", "channel": "user:carol"})
        assert denied["type"] == "error"
        assert denied["code"] == "FORBIDDEN"
        with pytest.raises(TimeoutError):
            await dave.recv_until(lambda f: f["type"] == "event", timeout=0.3)


async def test_broadcast_to_all_reaches_every_instance(
    pair: tuple[RunningServer, RunningServer], redis: aioredis.Redis
) -> None:
    a, b = pair
    async with ws_client(a, "erin") as erin, ws_client(b, "frank") as frank:
        assert await Broadcaster(redis).to_all({"kind": "maintenance", "in": 5}) == 2
        assert await Broadcaster(redis).to_user("erin", {"kind": "hello"}) == 1
        event = await erin.recv_until(lambda f: f["type"] == "event")
        assert event["channel"] == "broadcast"
        assert event["data"]["kind"] == "maintenance"
        event = await erin.recv_until(lambda f: f["type"] == "event")
        assert event == {"type": "event", "channel": "user:erin", "data": {"kind": "hello"}}
        event = await frank.recv_until(lambda f: f["type"] == "event")
        assert event["channel"] == "broadcast"
        assert event["data"]["kind"] == "maintenance"


async def test_auth_by_query_or_first_frame_and_bad_tokens_are_refused(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, _ = pair
    async with connect(a.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": user_token("gina")}))
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome"
        assert welcome["user_id"] == "gina"

    assert await _close_code(a.ws_url) == 4002  # nothing sent: auth timeout
    assert await _close_code(a.ws_url, json.dumps({"type": "ping"})) == 4000
    assert await _close_code(a.ws_url, "not json") == 4000
    unsigned = jwt.encode({"sub": "x", "iat": 1, "exp": 9999999999}, key="", algorithm="none")
    wrong_key = user_token("x", secret="another-secret-of-sufficient-length")
    expired = user_token("x", ttl_seconds=-60)
    no_subject = jwt.encode(
        {"iss": "saga", "iat": 1, "exp": 9999999999}, DEV_JWT_SECRET, algorithm="HS256"
    )
    assert await _close_code(f"{a.ws_url}?token={unsigned}") == 4000
    assert await _close_code(f"{a.ws_url}?token={wrong_key}") == 4000
    assert await _close_code(f"{a.ws_url}?token={expired}") == 4001
    assert await _close_code(f"{a.ws_url}?token={no_subject}") == 4000


async def test_bad_frames_get_error_frames_and_the_socket_survives(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, _ = pair
    async with ws_client(a, "hank") as hank:
        cases = [
            "{not json",
            "[1, 2]",
            json.dumps({"type": "launch.missiles"}),
            json.dumps({"type": "subscribe"}),
            json.dumps({"type": "subscribe", "channel": "secret:1"}),
            json.dumps({"type": "chat.send", "channel": "lobby", "text": 5}),
            json.dumps({"type": "presence.set", "status": "invisible"}),
            json.dumps({"type": "ping", "pad": "x" * 20_000}),
        ]
        for raw in cases:
            await hank.ws.send(raw)
            frame = await hank.recv()
            assert frame["type"] == "error", (raw[:40], frame)
        assert frame["code"] == "PAYLOAD_TOO_LARGE"
        await hank.ws.send(b"\x00\x01")
        assert (await hank.recv())["code"] == "VALIDATION_FAILED"
        assert (await hank.request({"type": "ping"}))["type"] == "pong"
        await hank.ws.send("x" * 70_000)  # past the protocol limit: closed 1009
        with pytest.raises(ConnectionClosed) as closed:
            await hank.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009


async def test_an_expiring_token_closes_the_socket_unless_refreshed(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, _ = pair
    async with connect(f"{a.ws_url}?token={user_token('ivy', ttl_seconds=2)}") as ws:
        client = Client(ws)
        assert (await client.recv())["type"] == "welcome"
        reply = await client.request({"type": "auth", "token": user_token("ivy", 60)})
        assert reply["type"] == "auth.ok"
        other = await client.request({"type": "auth", "token": user_token("mallory", 60)})
        assert other["code"] == "FORBIDDEN"
        await asyncio.sleep(2.5)
        assert (await client.request({"type": "ping"}))["type"] == "pong"

    async with connect(f"{a.ws_url}?token={user_token('ivy', ttl_seconds=1)}") as ws:
        assert json.loads(await ws.recv())["type"] == "welcome"
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4001, "token expired")


async def test_silent_clients_are_closed_by_the_heartbeat(
    stack: SessionStack, redis: aioredis.Redis
) -> None:
    settings = gateway_settings(stack.redis_url, ws_heartbeat_timeout_seconds=0.8)
    async with running_gateway(settings) as gateway, ws_client(gateway, "jack") as jack:
        for _ in range(4):
            await asyncio.sleep(0.4)
            assert (await jack.request({"type": "ping"}))["type"] == "pong"
        with pytest.raises(ConnectionClosed) as closed:
            await jack.recv(timeout=5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4003


async def test_frames_over_the_per_connection_rate_are_dropped_with_an_error(
    stack: SessionStack, redis: aioredis.Redis
) -> None:
    settings = gateway_settings(stack.redis_url, ws_rate_limit_per_connection=5)
    async with running_gateway(settings) as gateway, ws_client(gateway, "kim") as kim:
        for i in range(8):
            await kim.send({"type": "ping", "id": str(i)})
        frames = [await kim.recv() for _ in range(8)]
        assert [f["type"] for f in frames].count("pong") == 5
        limited = [f for f in frames if f["type"] == "error"]
        assert len(limited) == 3
        assert all(f["code"] == "RATE_LIMITED" for f in limited)


async def test_the_registry_sees_connections_of_every_instance_and_sessions_are_logged(
    pair: tuple[RunningServer, RunningServer], redis: aioredis.Redis
) -> None:
    a, b = pair
    registry = ConnectionRegistry(redis, ttl_seconds=3)
    async with ws_client(a, "liam", query="&client=web") as one, ws_client(b, "liam") as two:
        found = await registry.by_user("liam")
        assert {c.connection_id for c in found} == {
            one.welcome["connection_id"],
            two.welcome["connection_id"],
        }
        assert {c.instance_id for c in found} == {
            one.welcome["instance_id"],
            two.welcome["instance_id"],
        }
        await one.request({"type": "subscribe", "channel": "table:t9"})
        assert await registry.by_channel("table:t9") == [one.welcome["connection_id"]]
        await asyncio.sleep(3.5)  # longer than the TTL: refreshed, so still there
        assert len(await registry.by_user("liam")) == 2

    async def gone() -> None:
        assert await registry.by_user("liam") == []

    await assert_eventually(gone, timeout=5)

    async def sessions_logged() -> Any:
        entries: Any = await redis.xrange(SESSION_STREAM)
        kinds = [(f[b"type"].decode(), f[b"user_id"].decode()) for _, f in entries]
        assert kinds.count(("SESSION_STARTED", "liam")) == 2
        assert kinds.count(("SESSION_ENDED", "liam")) == 2
        return entries

    entries = await assert_eventually(sessions_logged, timeout=5)
    ended = [f for _, f in entries if f[b"type"] == b"SESSION_ENDED"]
    assert all(int(f[b"duration_ms"]) >= 3000 for f in ended)
    assert {f[b"client_type"] for f in ended} == {b"web", b"unknown"}

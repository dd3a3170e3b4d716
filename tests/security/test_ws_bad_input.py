"""The WebSocket under bad input: error frames or close codes, never a crash or a stuck server.

Every bad frame gets an `error` frame with a client-fault code (never INTERNAL), the socket
keeps answering pings, and after the worst of it (a protocol-level oversize, a flood) the next
connection gets its welcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import hypothesis
import pytest
import redis.asyncio as aioredis
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import SessionStack
from tests.integration.gateway_support import (
    Client,
    RunningServer,
    gateway_settings,
    running_gateway,
    ws_client,
)
from tests.security.tally import tried

MAX_FRAME = 4_096
CLIENT_FAULTS = {
    "VALIDATION_FAILED",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "PAYLOAD_TOO_LARGE",
    "UNAVAILABLE",
}
GARBAGE = [
    "",
    " ",
    "not json",
    "{",
    "}",
    "[]",
    "null",
    "1",
    '"text"',
    "{}",
    '{"type": 5}',
    '{"type": null}',
    '{"type": "nope"}',
    '{"type": "' + "t" * 500 + '"}',
    '{"type": "subscribe"}',
    '{"type": "subscribe", "channel": 7}',
    '{"type": "subscribe", "channel": "user:bob"}',
    '{"type": "subscribe", "channel": "table:*"}',
    '{"type": "subscribe", "channel": "table:[a-z]?"}',
    '{"type": "subscribe", "channel": "lobby\\n"}',
    '{"type": "subscribe", "channel": "table:1\\r\\nFLUSHALL"}',
    '{"type": "subscribe", "channel": "table:\' OR 1=1"}',
    '{"type": "unsubscribe", "channel": "nowhere:1"}',
    '{"type": "chat.send", "channel": "lobby", "text": ""}',
    '{"type": "chat.send", "channel": "lobby", "text": "' + "x" * 2_000 + '"}',
    '{"type": "chat.send", "channel": "user:bob", "text": "psst"}',
    '{"type": "chat.send", "channel": "lobby", "text": "\\ud800"}',
    '{"type": "chat.history", "channel": "lobby", "limit": -1}',
    '{"type": "chat.history", "channel": "lobby", "limit": 1e400}',
    '{"type": "chat.history", "channel": "lobby", "limit": NaN}',
    '{"type": "chat.history", "channel": "lobby", "limit": ' + "9" * 400 + "}",
    '{"type": "chat.history", "channel": "lobby", "before": "*"}',
    '{"type": "table.resync", "table_id": "1", "last_event_id": "0-0; DROP"}',
    '{"type": "table.action", "table_id": "", "action": "bet"}',
    '{"type": "table.action", "table_id": "1", "action": "bet", "amount": -5}',
    '{"type": "presence.set", "status": "invisible"}',
    '{"type": "auth", "token": ""}',
    '{"type": "auth", "token": "x.y.z"}',
    '{"type": "ping", "id": "' + "i" * 100 + '"}',
    "[" * 2_000 + "]" * 2_000,
    '{"a":' * 1_500 + "1" + "}" * 1_500,
    '{"type": "ping", "type": "nope"}',
]


@pytest.fixture
async def gateway(stack: SessionStack, redis: aioredis.Redis) -> AsyncIterator[RunningServer]:
    async with running_gateway(
        gateway_settings(stack.redis_url, ws_max_frame_bytes=MAX_FRAME)
    ) as running:
        yield running


async def _replies(client: Client, frame: str | bytes) -> list[dict[str, Any]]:
    """Send one frame, then a ping: what arrives before the pong answers the frame."""
    await client.ws.send(frame)
    await client.send({"type": "ping", "id": "probe"})
    answers: list[dict[str, Any]] = []
    while True:
        reply = await client.recv(5)
        if reply.get("type") == "pong" and reply.get("ref") == "probe":
            return answers
        answers.append(reply)


async def _answer(client: Client, frame: str | bytes) -> dict[str, Any]:
    """The error a bad frame is answered with."""
    answers = await _replies(client, frame)
    errors = [a for a in answers if a["type"] == "error"]
    assert errors, (frame[:80], answers)
    return errors[0]


async def test_garbage_frames_get_error_frames_and_the_socket_lives_on(
    gateway: RunningServer,
) -> None:
    async with ws_client(gateway, "gina") as client:
        for frame in GARBAGE:
            error = await _answer(client, frame)
            assert error["code"] in CLIENT_FAULTS, (frame[:80], error)
            tried("websocket")
        error = await _answer(client, b"\x00\x01binary")
        assert error["code"] == "VALIDATION_FAILED"
        error = await _answer(client, "x" * (MAX_FRAME + 1))
        assert error["code"] == "PAYLOAD_TOO_LARGE"
        tried("websocket", 2)


@st.composite
def _frames(draw: st.DrawFn) -> str:
    """Random JSON objects, half of them with a real frame type and made-up fields."""
    values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )
    frame = draw(st.dictionaries(st.text(max_size=10), values, max_size=5))
    kind = draw(
        st.sampled_from(["subscribe", "chat.send", "chat.history", "table.action", "presence.set"])
        | st.text(max_size=12)
    )
    frame["type"] = kind
    return json.dumps(frame)


async def test_random_frames_never_fail_the_gateway(gateway: RunningServer) -> None:
    frames: list[str] = []

    @hypothesis.given(_frames())
    @hypothesis.settings(max_examples=120, derandomize=True, database=None, deadline=None)
    def collect(frame: str) -> None:
        frames.append(frame)

    collect()
    unanswered, codes = [], set()
    async with ws_client(gateway, "rita") as client:
        for frame in frames:
            replies = await _replies(client, frame)
            tried("websocket")
            # Every frame gets its answer (a reply or an error), none is silently dropped.
            if not replies:
                unanswered.append(frame[:80])
            codes |= {r["code"] for r in replies if r["type"] == "error"}
    assert unanswered == []
    assert codes <= CLIENT_FAULTS | {"RATE_LIMITED"}, codes


async def test_an_oversized_frame_closes_1009_and_the_next_connection_works(
    gateway: RunningServer,
) -> None:
    async with ws_client(gateway, "olga") as client:
        await client.ws.send("x" * (MAX_FRAME * 4 + 1))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(client.ws.recv(), 5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009
    async with ws_client(gateway, "olga") as again:
        assert again.welcome["type"] == "welcome"
    tried("websocket")


async def test_a_flood_is_rate_limited_and_the_gateway_stays_up(
    stack: SessionStack, redis: aioredis.Redis
) -> None:
    settings = gateway_settings(stack.redis_url, ws_rate_limit_per_connection=50)
    async with running_gateway(settings) as gateway:
        async with ws_client(gateway, "fred") as client:
            for i in range(300):
                await client.send({"type": "chat.history", "channel": "lobby", "id": f"f{i}"})
            limited = await _count_rate_limited(client)
        assert limited >= 200, limited
        tried("websocket", 300)
        # Connections that never authenticate: each is closed in time, none holds the server.
        sockets = [await connect(gateway.ws_url) for _ in range(30)]
        codes = [await _close_code(ws) for ws in sockets]
        assert set(codes) == {4002}, codes
        tried("websocket", 30)
        async with ws_client(gateway, "fred") as again:
            assert again.welcome["type"] == "welcome"


async def _count_rate_limited(client: Client) -> int:
    limited = 0
    with contextlib.suppress(TimeoutError, ConnectionClosed):
        while True:
            reply = await client.recv(3)
            limited += reply.get("code") == "RATE_LIMITED"
    return limited


async def _close_code(ws: Any) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    return closed.value.rcvd.code if closed.value.rcvd else None

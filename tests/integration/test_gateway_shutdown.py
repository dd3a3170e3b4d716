"""`saga gateway` stopped by SIGTERM: sockets closed 1001 with a reason, sessions ended, JSON logs.

The gateway runs as its own process, as in production, so what it prints is all there is to see:
every line must be JSON (uvicorn's own included) with trace ids on the request lines, and no
traceback anywhere.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from domain.gateway.sessions import SESSION_STREAM
from infra.ports import free_port
from tests.conftest import SessionStack
from tests.integration.gateway_support import user_token

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"


@dataclass
class GatewayProcess:
    """A `saga gateway` subprocess and where it answers."""

    process: asyncio.subprocess.Process
    port: int
    instance_id: str

    @property
    def url(self) -> str:
        """HTTP base URL."""
        return f"http://127.0.0.1:{self.port}"


@asynccontextmanager
async def gateway_process(stack: SessionStack) -> AsyncIterator[GatewayProcess]:
    """`python -m saga gateway` on a free port, killed if a test leaves it running."""
    port, instance_id = free_port(), f"shutdown-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "REDIS_URL": stack.redis_url,
        "GATEWAY_PORT": str(port),
        "GATEWAY_INSTANCE_ID": instance_id,
        "LOG_LEVEL": "INFO",
        "TRACE_EXPORTER": "none",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "saga",
        "gateway",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            for _ in range(200):
                try:
                    if (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("the gateway did not start")
        yield GatewayProcess(process, port, instance_id)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _invalid_http_request(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
    await writer.drain()
    await asyncio.wait_for(reader.read(), 5)
    writer.close()


async def _close_seen(ws: ClientConnection) -> tuple[int | None, str | None]:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 20)
    except ConnectionClosed:
        pass
    return ws.close_code, ws.close_reason


async def test_sigterm_closes_every_socket_going_away_and_logs_json_only(
    stack: SessionStack, redis: aioredis.Redis
) -> None:
    async with gateway_process(stack) as gateway:
        await _invalid_http_request(gateway.port)
        async with httpx.AsyncClient(base_url=gateway.url, timeout=5) as http:
            fresh = await http.get("/me/balance")
            continued = await http.get(
                "/me/balance", headers={"traceparent": f"00-{CALLER_TRACE}-b7ad6b7169203331-01"}
            )
        assert (fresh.status_code, continued.status_code) == (401, 401)
        sockets = [
            await connect(f"ws://127.0.0.1:{gateway.port}/ws?token={user_token(f'u{i}')}")
            for i in range(3)
        ]
        for ws in sockets:
            assert json.loads(await ws.recv())["type"] == "welcome"
        gateway.process.send_signal(signal.SIGTERM)
        closes = await asyncio.gather(*(_close_seen(ws) for ws in sockets))
        out, err = await asyncio.wait_for(gateway.process.communicate(), 30)
    assert gateway.process.returncode in (0, -signal.SIGTERM), err.decode()
    assert closes == [(1001, "gateway shutting down")] * 3
    stdout, stderr = out.decode(), err.decode()
    assert "Traceback" not in stdout + stderr, stdout + stderr
    assert stderr.strip() == "", stderr
    lines = [json.loads(line) for line in stdout.splitlines()]  # each one is JSON

    invalid = [line for line in lines if line["message"] == "Invalid HTTP request received."]
    assert [line["logger"] for line in invalid] == ["uvicorn.error"], lines
    requests = [line for line in lines if line.get("route") == "/me/balance"]
    assert len(requests) == 2, lines
    assert all(len(str(line["trace_id"])) == 32 and line["span_id"] for line in requests)
    assert requests[0]["trace_id"] != CALLER_TRACE
    assert requests[1]["trace_id"] == CALLER_TRACE
    assert fresh.headers["x-trace-id"] == requests[0]["trace_id"]
    stopped = [line for line in lines if str(line["message"]).startswith("stopped:")]
    assert len(stopped) == 1, lines
    assert (stopped[0]["sockets_closed"], stopped[0]["cut_short"]) == (3, 0)

    entries: Any = await redis.xrange(SESSION_STREAM)
    ours = [
        {k.decode(): v.decode() for k, v in fields.items()}
        for _, fields in entries
        if fields.get(b"instance_id") == gateway.instance_id.encode()
    ]
    ended = [e for e in ours if e["type"] == "SESSION_ENDED"]
    assert sorted(e["user_id"] for e in ended) == ["u0", "u1", "u2"]
    assert {e["close_code"] for e in ended} == {"1001"}

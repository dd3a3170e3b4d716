"""Gateway benchmark: connections held, memory per connection, fan-out latency and rate.

Runs `saga gateway` as its own process on a private Valkey (or REDIS_URL), loopback only,
bounded in connections and time. Clients are raw asyncio protocols (a minimal WebSocket
framing) so that the client side costs as little CPU as possible on a shared machine.
Floors measured in the same run: Redis pub/sub round trip latency for one subscriber.

    .venv/bin/python -m bench.gateway [--connections 5000] [--subscribers 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]
import redis.asyncio as aioredis

from infra.ports import free_port
from infra.settings import DEV_JWT_SECRET
from infra.tokens import issue_token
from saga.stack.valkey import EmbeddedValkey

CHANNEL = "table:bench"


def _frame(text: str) -> bytes:
    """A masked client text frame (zero mask: the payload goes as is)."""
    data = text.encode()
    size = len(data)
    header = bytes([0x81, 0x80 | size]) if size < 126 else bytes([0x81, 0xFE]) + size.to_bytes(2)
    return header + b"\x00\x00\x00\x00" + data


class Counters:
    """What every client reports to the benchmark."""

    def __init__(self) -> None:
        self.events = 0
        self.subscribed = 0
        self.latencies: list[float] | None = None


class RawClient(asyncio.Protocol):
    """A WebSocket client that only parses frame headers, and JSON only when timing."""

    def __init__(self, counters: Counters, path: str, port: int) -> None:
        self.counters = counters
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.buf = bytearray()
        self.upgraded = False
        self.welcome: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.welcome.done():
            self.welcome.set_exception(ConnectionError("closed before welcome"))

    def send(self, frame: dict[str, object]) -> None:
        assert self.transport is not None
        self.transport.write(_frame(json.dumps(frame)))

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in buf[:end]:
                raise ConnectionError(bytes(buf[:end]).decode(errors="replace"))
            del buf[: end + 4]
            self.upgraded = True
        while len(buf) >= 2:
            size, start = buf[1] & 0x7F, 2
            if size == 126:
                if len(buf) < 4:
                    return
                size, start = int.from_bytes(buf[2:4]), 4
            elif size == 127:
                if len(buf) < 10:
                    return
                size, start = int.from_bytes(buf[2:10]), 10
            if len(buf) < start + size:
                return
            opcode, payload = buf[0] & 0x0F, bytes(buf[start : start + size])
            del buf[: start + size]
            if opcode == 1:
                self._text(payload)

    def _text(self, payload: bytes) -> None:
        counters = self.counters
        if payload.startswith(b'{"type":"event"'):
            counters.events += 1
            if counters.latencies is not None:
                sent = json.loads(payload)["data"]["t"]
                counters.latencies.append(time.perf_counter() - sent)
        elif payload.startswith(b'{"type":"subscribed"'):
            counters.subscribed += 1
        elif payload.startswith(b'{"type":"welcome"') and not self.welcome.done():
            self.welcome.set_result(None)


def _events_reached(counters: Counters, target: int) -> Callable[[], bool]:
    return lambda: counters.events >= target


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def _redis_floor(redis_url: str, rounds: int = 200) -> list[float]:
    """PUBLISH -> one subscriber, straight through Redis: the latency no gateway can beat."""
    client = aioredis.Redis.from_url(redis_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe("floor")
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await client.publish("floor", "x")
        while await pubsub.get_message(timeout=1.0) is None:
            pass
        samples.append(time.perf_counter() - started)
    await pubsub.aclose()
    await client.aclose()
    return samples


async def _wait(check: Callable[[], bool], timeout: float, interval: float = 0.01) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if check():
            return True
        await asyncio.sleep(interval)
    return False


async def run(connections: int, subscribers: int, redis_url: str) -> None:
    """Start the gateway, measure, print."""
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "GATEWAY_PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "WS_HEARTBEAT_TIMEOUT_SECONDS": "3600",
        "WS_PING_INTERVAL_SECONDS": "3600",
        "WS_SEND_QUEUE_SIZE": "1024",
    }
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "saga", "gateway", env=env)
    loop = asyncio.get_running_loop()
    counters = Counters()
    clients: list[RawClient] = []
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                try:
                    if (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        gateway = psutil.Process(proc.pid)
        floor = await _redis_floor(redis_url)
        await asyncio.sleep(1)
        rss_before = gateway.memory_info().rss

        started = time.perf_counter()
        for first in range(0, connections, 200):
            batch = []
            for i in range(first, min(connections, first + 200)):
                path = f"/ws?token={issue_token(DEV_JWT_SECRET, f'bench-{i}', ttl_seconds=3600)}"
                _, client = await loop.create_connection(
                    functools.partial(RawClient, counters, path, port), "127.0.0.1", port
                )
                batch.append(client)
            await asyncio.gather(*(c.welcome for c in batch))
            clients.extend(batch)
        connect_seconds = time.perf_counter() - started
        await asyncio.sleep(2)
        rss_after = gateway.memory_info().rss
        per_conn = (rss_after - rss_before) / len(clients)

        for client in clients[:subscribers]:
            client.send({"type": "subscribe", "channel": CHANNEL})
        await _wait(lambda: counters.subscribed >= subscribers, 60)

        publisher = aioredis.Redis.from_url(redis_url)
        counters.latencies = []
        for _ in range(40):
            expected = counters.events + subscribers
            await publisher.publish(CHANNEL, json.dumps({"t": time.perf_counter()}))
            await _wait(_events_reached(counters, expected), 5)
            await asyncio.sleep(0.05)
        latencies, counters.latencies = counters.latencies, None

        window, sent, base = 32, 0, counters.events
        started = time.perf_counter()
        while time.perf_counter() - started < 8:
            await publisher.publish(CHANNEL, '{"t":0,"kind":"bench"}')
            sent += 1
            needed = base + (sent - window) * subscribers
            await _wait(_events_reached(counters, needed), 10, interval=0.001)
        await _wait(lambda: counters.events >= base + sent * subscribers, 10)
        elapsed = time.perf_counter() - started
        delivered = counters.events - base
        await publisher.aclose()

        floor_p99 = _pct(floor, 0.99)
        p50, p99 = _pct(latencies, 0.5), _pct(latencies, 0.99)
        rate = delivered / elapsed
        print(f"machine: {os.cpu_count()} cores (shared), gateway = 1 process, clients = 1 process")
        print(
            f"connections held: {len(clients)} (opened in {connect_seconds:.1f}s, "
            f"{len(clients) / connect_seconds:.0f}/s)"
        )
        print(
            f"memory per connection: {per_conn / 1024:.1f} KiB "
            f"(RSS {rss_before / 2**20:.0f} -> {rss_after / 2**20:.0f} MiB; target < 64 KiB)"
        )
        print(
            f"fan-out latency, 1 publish -> {subscribers} subscribers ({len(latencies)} samples): "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 < 50 ms)"
        )
        print(
            f"floor, Redis PUBLISH -> 1 subscriber: p50 {_pct(floor, 0.5):.2f} ms, "
            f"p99 {floor_p99:.2f} ms; gateway p99 / floor p99 = {p99 / floor_p99:.0f}x"
        )
        print(
            f"delivered: {delivered} messages in {elapsed:.1f}s = {rate:,.0f} msg/s "
            f"({sent} publishes x {subscribers}; median of one run; target >= 100,000/s; "
            f"ratio to target {rate / 100_000:.2f})"
        )
        print(f"gateway CPU time used: {sum(gateway.cpu_times()[:2]):.1f}s")
    finally:
        for client in clients:
            if client.transport is not None:
                client.transport.close()
        proc.terminate()
        await proc.wait()


async def main() -> None:
    """Parse arguments, start Valkey unless REDIS_URL is given, run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--subscribers", type=int, default=1000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.connections)), hard))
    if os.environ.get("REDIS_URL"):
        await run(args.connections, args.subscribers, os.environ["REDIS_URL"])
        return
    with tempfile.TemporaryDirectory() as tmp:
        valkey = EmbeddedValkey(Path(tmp) / "valkey", free_port(), persistent=False)
        await valkey.start()
        try:
            await run(args.connections, args.subscribers, valkey.url)
        finally:
            await valkey.stop()


if __name__ == "__main__":
    asyncio.run(main())

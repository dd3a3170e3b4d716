"""What a player waits for an order, from POST to CONFIRMED, against the engine's own floor.

Starts a real `saga up` (embedded stack, every worker and front) on free ports in a temporary
SAGA_HOME. Players are built from the contracts only: each holds a gateway WebSocket with its
own token (`user:{id}` carries `order.status`), posts orders at the edge with its token, and
sees the outcome on the socket, or by polling `GET /orders/{id}` every 50 ms, or by the
long-poll `GET /orders/{id}?wait=10&seen=STATUS`.

Two floors run on the same Temporal server in the same rounds (bench/noop_saga.py), with a
worker in a process of its own (bench/floor_worker.py), as the saga's is: the plain floor
(four no-op regular activities on one queue, nothing else) that the goals are measured
against, and the shape floor (the saga's start search attributes, summaries, an upsert per
step, three queues, still no work) that shows what the old shape cost. Each round runs every
case once, interleaved; the figures are medians of the rounds.

    .venv/bin/python -m bench.order_saga [--sequential 20] [--orders 90] [--concurrency 30]
                                         [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.service import RPCError

from apis.auth import service_headers
from bench.cpu import tree_cpu
from bench.noop_saga import NoopSagaWorkflow, PlainFloorWorkflow, start_attributes
from bench.order_report import Case, report, report_troubles
from domain.checkout.models import workflow_id_for
from infra.ports import free_port
from infra.settings import DEV_JWT_SECRET, PlatformSettings
from infra.tokens import issue_token

# A busy shared machine drops a connection now and then: the order is sent again under the
# same Idempotency-Key (the edge answers it once), and every drop is reported.
SEND_ATTEMPTS = 3


class OrderLost(Exception):
    """An order or floor run the bench could not see through; counted, not fatal."""


@dataclass(frozen=True)
class Round:
    """One measured batch."""

    throughput: float
    p50_ms: float
    p99_ms: float
    cpu: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)


async def measure(one: Callable[[int], Awaitable[None]], count: int, concurrency: int) -> Round:
    """Run `one(i)` for i < count, `concurrency` at a time; per-call latency and overall rate.

    A call that fails is counted by its error in `lost` and left out of the latencies.
    """
    latencies: list[float] = []
    lost: Counter[str] = Counter()
    gate = asyncio.Semaphore(concurrency)
    cpu_before = tree_cpu(os.getpid())

    async def timed(i: int) -> None:
        async with gate:
            started = time.perf_counter()
            try:
                await one(i)
            except (
                OrderLost,
                httpx.HTTPError,
                RPCError,
                TimeoutError,
                websockets.WebSocketException,
            ) as exc:
                lost[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
                return
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(timed(i) for i in range(count)))
    elapsed = time.perf_counter() - started
    # Every call lost still leaves a round to print (as NaN), not a crash.
    latencies = sorted(latencies) or [float("nan")]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    cpu = tree_cpu(os.getpid())
    cpu.subtract(cpu_before)
    done = count - sum(lost.values())
    return Round(done / elapsed, statistics.median(latencies) * 1000, p99 * 1000, cpu, lost)


FINAL = ("CONFIRMED", "FAILED")


class Player:
    """One player: a gateway WebSocket and an HTTP client, both under the player's token."""

    def __init__(self, user: str, ws: Any, http: httpx.AsyncClient) -> None:
        self.user = user
        self.http = http
        self._ws = ws
        self._final: dict[str, asyncio.Future[str]] = {}
        self.watched: list[str] = []  # orders seen through on the socket, oldest first
        self._task = asyncio.create_task(self._read())
        self._heartbeat = asyncio.create_task(self._beat())

    @classmethod
    async def connect(cls, user: str, env: dict[str, str]) -> Player:
        """Open the player's socket (subscribed to `user:{id}` from the start) and client."""
        token = issue_token(env.get("JWT_SECRET", DEV_JWT_SECRET), user, ttl_seconds=24 * 3600)
        gateway = f"ws://127.0.0.1:{env['GATEWAY_PORT']}/ws?token={token}"
        ws = await websockets.connect(gateway, max_queue=None)
        http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{env['EDGE_PORT']}",
            timeout=60,
            headers={"authorization": f"Bearer {token}"},
        )
        return cls(user, ws, http)

    def final_status(self, order_ledger_id: str) -> asyncio.Future[str]:
        """The order's final status, as announced on the socket."""
        return self._final.setdefault(order_ledger_id, asyncio.get_running_loop().create_future())

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                frame = json.loads(raw)
                data = frame.get("data") or {}
                if data.get("kind") == "order.status" and data["status"] in FINAL:
                    future = self.final_status(data["order_ledger_id"])
                    if not future.done():
                        future.set_result(data["status"])
        finally:
            # A closed socket sees nothing more: every wait on it ends now, counted as lost.
            closed = OrderLost(f"the WebSocket of {self.user} closed ({self._ws.close_code})")
            for future in self._final.values():
                if not future.done():
                    future.set_exception(closed)

    async def _beat(self) -> None:
        """A `ping` frame every 15 s: the gateway closes a silent socket (4003) after 60 s."""
        while True:
            await asyncio.sleep(15)
            await self._ws.send(json.dumps({"type": "ping"}))

    async def place(self, dropped: Counter[str]) -> str:
        """POST one order; its ledger id. A dropped connection is resent under the same key."""
        body = {
            "customer_id": self.user,
            "items": [{"product_id": "bench", "quantity": 1}],
            "payment_method": "pm_card_visa",
            "currency": "USD",
        }
        key = str(uuid.uuid4())
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                response = await self.http.post(
                    "/orders", json=body, headers={"Idempotency-Key": key}
                )
                break
            except httpx.TransportError as exc:
                dropped[type(exc).__name__] += 1
                if attempt == SEND_ATTEMPTS:
                    raise
                await asyncio.sleep(0.2 * attempt)
        if response.status_code != 202:
            raise OrderLost(f"answered {response.status_code}: {response.text[:80]}")
        return str(response.json()["order_ledger_id"])

    async def on_socket(self, dropped: Counter[str]) -> None:
        """Submit, then wait for CONFIRMED on the WebSocket."""
        order = await self.place(dropped)
        self.watched.append(order)
        status = await asyncio.wait_for(self.final_status(order), 60)
        if status != "CONFIRMED":
            raise OrderLost(f"ended {status}")

    async def polling(self, dropped: Counter[str]) -> None:
        """Submit, then `GET /orders/{id}` every 50 ms until the status is final."""
        order = await self.place(dropped)
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            status = (await self.http.get(f"/orders/{order}")).json()["status"]
            if status in FINAL:
                if status != "CONFIRMED":
                    raise OrderLost(f"ended {status}")
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"order {order} not final after 60 s of polling")

    async def long_polling(self, dropped: Counter[str]) -> None:
        """Submit, then `GET /orders/{id}?wait=10&seen=STATUS` until the status is final."""
        order = await self.place(dropped)
        seen = "AUTHORIZED"
        for _ in range(30):
            answer = await self.http.get(f"/orders/{order}", params={"wait": 10, "seen": seen})
            seen = answer.json()["status"]
            if seen in FINAL:
                if seen != "CONFIRMED":
                    raise OrderLost(f"ended {seen}")
                return
        raise TimeoutError(f"order {order} not final after 30 long polls")

    async def close(self) -> None:
        """Close the socket and the client."""
        self._task.cancel()
        self._heartbeat.cancel()
        await self._ws.close()
        await self.http.aclose()


def start_platform(home: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`saga up` on free ports; returns once it is healthy."""
    env = {k: v for k, v in os.environ.items() if k not in ("TEMPORAL_ADDRESS", "DATABASE_URL")}
    env.update(SAGA_HOME=str(home), PYTHONUNBUFFERED="1", COLUMNS="200")
    env.pop("REDIS_URL", None)
    # Deployed services import from cached bytecode; without it the workflow sandbox compiles
    # the workflow's module from source on every run, in the saga's worker and the floor's.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for name in PlatformSettings.model_fields:
        if name.endswith("_port"):
            env[name.upper()] = str(free_port())
    process = subprocess.Popen(
        [sys.executable, "-m", "saga", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "all healthy" in line:
            return process, env
    raise RuntimeError("saga up did not start; see " + str(home / "logs"))


async def run(args: argparse.Namespace, env: dict[str, str]) -> None:
    """Warm up, then rounds of every case and both floors, interleaved; print medians."""
    client = await Client.connect(f"127.0.0.1:{env['TEMPORAL_PORT']}")
    prefix = f"bench-{uuid.uuid4().hex[:6]}"
    players = [
        await Player.connect(f"bench-{prefix[-6:]}-{i}", env) for i in range(args.concurrency)
    ]
    # The floors' worker runs in its own process, as the saga's worker does in `saga up`.
    floor_worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.floor_worker",
        f"127.0.0.1:{env['TEMPORAL_PORT']}",
        prefix,
        stdout=asyncio.subprocess.PIPE,
    )
    assert floor_worker.stdout is not None
    await floor_worker.stdout.readline()  # "floor worker ready"
    auth = service_headers(SecretStr(env.get("JWT_SECRET", DEV_JWT_SECRET)), "bench")
    inventory = f"http://127.0.0.1:{env['INVENTORY_PORT']}"
    async with httpx.AsyncClient(timeout=60, headers=auth) as http:
        created = await http.post(
            f"{inventory}/inventory/products",
            json={
                "product_id": "bench",
                "name": "Bench",
                "price_cents": 100,
                "initial_stock": 1_000_000,
            },
        )
        created.raise_for_status()
    dropped: Counter[str] = Counter()

    async def plain(i: int) -> None:
        await client.execute_workflow(
            PlainFloorWorkflow.run,
            f"{prefix}-orders",
            id=f"{prefix}-plain-{uuid.uuid4()}",
            task_queue=f"{prefix}-saga",
        )

    async def shape(i: int) -> None:
        customer = players[i % len(players)].user
        await client.execute_workflow(
            NoopSagaWorkflow.run,
            args=[prefix, customer, 100],
            id=f"{prefix}-shape-{uuid.uuid4()}",
            task_queue=f"{prefix}-saga",
            search_attributes=start_attributes(customer, 100),
        )

    def each(how: str) -> Callable[[int], Awaitable[None]]:
        async def one(i: int) -> None:
            player = players[i % len(players)]
            await getattr(player, how)(dropped)

        return one

    n, c, seq = args.orders, args.concurrency, args.sequential
    cases = [
        Case("plain floor, one at a time", plain, seq, 1),
        Case("saga, one at a time, WebSocket", each("on_socket"), seq, 1),
        Case("plain floor, concurrent", plain, n, c),
        Case("shape floor, concurrent", shape, n, c),
        Case("saga, concurrent, WebSocket", each("on_socket"), n, c),
        Case("saga, concurrent, polling 50 ms", each("polling"), n, c),
        Case("saga, concurrent, long-poll", each("long_polling"), n, c),
    ]
    try:
        for case in cases:  # warm-up: connections, caches, the sandbox's module imports
            await measure(case.one, min(c, case.count), case.concurrency)
        for _ in range(args.rounds):
            for case in cases:
                case.rounds.append(await measure(case.one, case.count, case.concurrency))
    finally:
        floor_worker.terminate()
        await floor_worker.wait()
    for player in players:
        await player.close()
    report(cases, args)
    report_troubles(cases, dropped)
    if args.history:
        # The last order player 0 saw through in the concurrent WebSocket case: under load.
        order = players[0].watched[-1]
        history = await client.get_workflow_handle(workflow_id_for(order)).fetch_history()
        Path(args.history).write_text(history.to_json())
        print(f"history of order-{order} (under load) written to {args.history}")


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sequential", type=int, default=20, help="orders one at a time")
    parser.add_argument("--orders", type=int, default=90, help="orders per concurrent case")
    parser.add_argument("--concurrency", type=int, default=30, help="players at once")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--history", help="write one saga's history from the concurrent case to this file"
    )
    args = parser.parse_args()
    sys.dont_write_bytecode = False
    with tempfile.TemporaryDirectory(prefix="saga-bench-") as home:
        process, env = start_platform(Path(home))
        try:
            asyncio.run(run(args, env))
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=60)


if __name__ == "__main__":
    main()

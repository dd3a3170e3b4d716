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

import aiohttp
import httpx
import websockets
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.service import RPCError

from apis.auth import service_headers
from bench.cpu import tree_cpu
from bench.noop_saga import NoopSagaWorkflow, PlainFloorWorkflow, start_attributes
from bench.order_report import Case, report, report_order_reads, report_troubles
from bench.players import OrderLost, Player
from domain.checkout.models import workflow_id_for
from infra.ports import free_port
from infra.settings import DEV_JWT_SECRET, PlatformSettings


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
                aiohttp.ClientError,
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
    async with httpx.AsyncClient(timeout=10) as http:
        edge_metrics = await http.get(f"http://127.0.0.1:{env['EDGE_PORT']}/metrics")
    report_order_reads(edge_metrics.text)
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

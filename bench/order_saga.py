"""Orders from HTTP submission to CONFIRMED, against the engine floor on the same server.

Starts a real `saga up` (embedded stack, every worker and front) on free ports in a temporary
SAGA_HOME. The floor is the same workflow shape (bench/noop_saga.py: the same start search
attributes, four regular activities on the `orders`, `inventory`, `payments` queues, the same
upserts) with activities that do nothing, run by a worker in this process against the same
Temporal server, at the same concurrency.

    .venv/bin/python -m bench.order_saga [--orders 100] [--concurrency 20] [--rounds 3]
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

import httpx
import redis.asyncio as aioredis
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

from apis.auth import service_headers
from bench.cpu import tree_cpu
from bench.noop_saga import NoopSagaWorkflow, noop, start_attributes
from bench.order_report import report, report_troubles
from infra.ports import free_port
from infra.settings import DEV_JWT_SECRET, PlatformSettings

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
            except (OrderLost, httpx.HTTPError, RPCError, TimeoutError) as exc:
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


class ConfirmedWatcher:
    """Resolves a future per order when `user:{customer}` announces its final status."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._pubsub = redis.pubsub()
        self._waiting: dict[str, asyncio.Future[str]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Subscribe to every bench customer's channel."""
        await self._pubsub.psubscribe("user:bench-*")
        self._task = asyncio.create_task(self._listen())

    def expect(self, order_ledger_id: str) -> asyncio.Future[str]:
        """A future that gets the order's final status."""
        future = self._waiting.setdefault(
            order_ledger_id, asyncio.get_running_loop().create_future()
        )
        return future

    async def _listen(self) -> None:
        async for message in self._pubsub.listen():
            if message["type"] != "pmessage":
                continue
            event = json.loads(message["data"])
            if event["status"] in ("CONFIRMED", "FAILED"):
                future = self.expect(event["order_ledger_id"])
                if not future.done():
                    future.set_result(event["status"])

    async def stop(self) -> None:
        """Unsubscribe."""
        if self._task is not None:
            self._task.cancel()
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]


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
    """Warm up, then alternate saga and floor rounds; print medians and ratios."""
    edge = f"http://127.0.0.1:{env['EDGE_PORT']}"
    inventory = f"http://127.0.0.1:{env['INVENTORY_PORT']}"
    client = await Client.connect(f"127.0.0.1:{env['TEMPORAL_PORT']}")
    redis = aioredis.Redis.from_url(f"redis://127.0.0.1:{env['REDIS_PORT']}/0")
    watcher = ConfirmedWatcher(redis)
    await watcher.start()
    prefix = f"bench-{uuid.uuid4().hex[:6]}"
    floor_queue = f"{prefix}-saga"
    workers = [
        Worker(client, task_queue=floor_queue, workflows=[NoopSagaWorkflow]),
        *(
            Worker(client, task_queue=f"{prefix}-{q}", activities=[noop])
            for q in ("orders", "inventory", "payments")
        ),
    ]
    auth = service_headers(SecretStr(env.get("JWT_SECRET", DEV_JWT_SECRET)), "bench")
    dropped: Counter[str] = Counter()
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

        async def order(i: int) -> None:
            body = {
                "customer_id": f"bench-{i % 10}",
                "items": [{"product_id": "bench", "quantity": 1}],
                "payment_method": "pm_card_visa",
                "currency": "USD",
            }
            key = str(uuid.uuid4())
            for attempt in range(1, SEND_ATTEMPTS + 1):
                try:
                    response = await http.post(
                        f"{edge}/orders", json=body, headers={"Idempotency-Key": key}
                    )
                    break
                except httpx.TransportError as exc:
                    dropped[type(exc).__name__] += 1
                    if attempt == SEND_ATTEMPTS:
                        raise
                    await asyncio.sleep(0.2 * attempt)
            if response.status_code != 202:
                raise OrderLost(f"answered {response.status_code}: {response.text[:80]}")
            status = await asyncio.wait_for(
                watcher.expect(response.json()["order_ledger_id"]), timeout=60
            )
            if status != "CONFIRMED":
                raise OrderLost(f"ended {status}")

        async def floor(i: int) -> None:
            await client.execute_workflow(
                NoopSagaWorkflow.run,
                args=[prefix, f"bench-{i % 10}", 100],
                id=f"{prefix}-{uuid.uuid4()}",
                task_queue=floor_queue,
                search_attributes=start_attributes(f"bench-{i % 10}", 100),
            )

        async with workers[0], workers[1], workers[2], workers[3]:
            await measure(order, args.concurrency, args.concurrency)
            await measure(floor, args.concurrency, args.concurrency)
            sagas: list[Round] = []
            floors: list[Round] = []
            for _ in range(args.rounds):
                sagas.append(await measure(order, args.orders, args.concurrency))
                floors.append(await measure(floor, args.orders, args.concurrency))
    await watcher.stop()
    await redis.aclose()
    report(sagas, floors, args)
    report_troubles(sagas, floors, dropped)


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
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

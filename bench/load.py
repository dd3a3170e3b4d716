"""Load drivers for bench/balance.py: open and closed loops, CPU, the server's own metrics."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx
import psutil  # type: ignore[import-untyped]
from grpc import aio
from prometheus_client.parser import text_string_to_metric_families

from domain.errors import Unavailable

Op = Callable[[int], Awaitable[object]]


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of values in ms."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def open_loop(op: Op, rate: int, seconds: float) -> tuple[list[float], float]:
    """Send at a fixed rate whatever the answers do; latency counts from the scheduled start."""
    latencies: list[float] = []
    failures: list[int] = []
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    total = int(rate * seconds)

    async def one(i: int, due: float) -> None:
        try:
            await op(i)
        except aio.AioRpcError:
            failures.append(i)
            return
        latencies.append(loop.time() - due)

    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    if failures:
        print(f"  {len(failures)} of {total} calls failed (shed or timed out)")
    return latencies, len(latencies) / (loop.time() - start)


async def closed_loop(op: Op, concurrency: int, seconds: float) -> float:
    """Ops/s with `concurrency` requests always in flight; failed calls are reported, not run."""
    done = 0
    failed: Counter[str] = Counter()
    deadline = time.perf_counter() + seconds

    async def worker(w: int) -> None:
        nonlocal done
        i = w * 10_000_000
        while time.perf_counter() < deadline:
            try:
                await op(i)
            except aio.AioRpcError as exc:
                # A busy shared machine times a call out now and then: say so and go on.
                failed[f"{exc.code().name}: {(exc.details() or '')[:60]}"] += 1
            except Unavailable as exc:
                failed[f"UNAVAILABLE: {exc.detail[:60]}"] += 1
            else:
                done += 1
            i += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    for reason, times in failed.items():
        print(f"  {times} calls failed and were left out ({reason})")
    return done / (time.perf_counter() - started)


async def server_slow_calls(http_port: int) -> tuple[int, int]:
    """(calls answered, calls slower than 10 ms) so far, from the server's own histogram."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://127.0.0.1:{http_port}/metrics")).text
    total = fast = 0.0
    for family in text_string_to_metric_families(text):
        if family.name != "saga_balance_grpc_request_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_count"):
                total += sample.value
            elif sample.name.endswith("_bucket") and sample.labels["le"] == "0.01":
                fast += sample.value
    return int(total), int(total - fast)


async def server_hinted_entries(http_port: int) -> tuple[int, int]:
    """(ledger entries the server computed ahead that the script used, that it did not)."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://127.0.0.1:{http_port}/metrics")).text
    counts = {"yes": 0.0, "no": 0.0}
    for family in text_string_to_metric_families(text):
        if family.name == "saga_balance_ledger_entries_hinted":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    counts[sample.labels["used"]] += sample.value
    return int(counts["yes"]), int(counts["no"])


def cpu_seconds(process: psutil.Process) -> float:
    """User + system CPU the process has used so far."""
    return float(sum(process.cpu_times()[:2]))


async def sustained(
    op: Op, server: psutil.Process, concurrency: int = 64, rounds: int = 3
) -> tuple[float, float, float]:
    """Median calls/s over closed-loop runs, the server's CPU us per call, and the calls made."""
    rates, cpu_before, started = [], cpu_seconds(server), time.perf_counter()
    for _ in range(rounds):
        rates.append(await closed_loop(op, concurrency, 3.0))
    calls = statistics.mean(rates) * (time.perf_counter() - started)
    return statistics.median(rates), (cpu_seconds(server) - cpu_before) * 1e6 / calls, calls


def ceiling(
    floor_load: float, floor_server: float, load: float, server: float, store: float
) -> str:
    """What a unary call can reach of the floor when the machine's cores are the limit.

    The load, the server and the store share the cores, and both closed loops keep them busy,
    so calls/s is the cores' time over what one call costs them all: the ratio to the floor
    cannot pass (floor's load + floor's server) / (load + server + store). With the load and
    the server each no dearer than the floor's, only the store's CPU is left: no server doing
    any work of its own can reach that bound. CPU in us per call.
    """
    floor_call, call = floor_load + floor_server, load + server + store
    return (
        f"CPU per call, the load (this process) included: floor {floor_call:.0f} us (load "
        f"{floor_load:.0f}), Credit {call:.0f} us (load {load:.0f}, server {server:.0f}, "
        f"Valkey {store:.0f}); with the cores the limit Credit can reach {floor_call / call:.2f} "
        f"of the floor, and with the load and the server no dearer than the floor's, in front "
        f"of this Valkey, {floor_call / (floor_call + store):.2f}"
    )

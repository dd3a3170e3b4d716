"""Balance service benchmark: gRPC Reserve+Commit and Credit under open-loop load.

Starts its own Valkey and a real `saga api balance` process on free ports, then prints p50/p99
at a fixed rate, the most ops/s the one server process sustains, the ratio to raw Redis running
the same Lua script in the same run, ledger verification entries/s, and then unary Credit and
Batch on one Valkey master against a 3-master Valkey Cluster (bench/balance_cluster.py).
Run: .venv/bin/python -m bench.balance
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import sys
import tempfile
import time
from asyncio.subprocess import Process
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import redis.asyncio as aioredis
from grpc import aio

from bench.balance_cluster import compare
from bench.load import (
    Op,
    ceiling,
    closed_loop,
    cpu_seconds,
    open_loop,
    percentile,
    server_hinted_entries,
    server_slow_calls,
    sustained,
)
from domain.balance import script_keys
from domain.balance.book import BalanceBook
from domain.balance.requests import ScriptRequest
from domain.balance.scripts import BalanceScripts
from infra.ports import free_port
from infra.settings import DEV_JWT_SECRET
from infra.tokens import TokenKind, issue_token
from protos.balance.v1 import balance_pb2 as pb
from protos.balance.v1 import balance_pb2_grpc as pb_grpc
from saga.stack.valkey import EmbeddedValkey

RATE = 500
SECONDS = 6.0
BATCH = 100
Metadata = tuple[tuple[str, str], ...]


async def start_process(argv: list[str], grpc_port: int, env: dict[str, str]) -> Process:
    """A server process, once its gRPC port answers."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *argv,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    async with aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        await asyncio.wait_for(channel.channel_ready(), timeout=30)
    return proc


async def start_server(redis_url: str, home: Path) -> tuple[Process, int, int]:
    """A real `saga api balance` process; its gRPC and HTTP ports."""
    grpc_port, http_port = free_port(), free_port()
    env = {
        "REDIS_URL": redis_url,
        "BALANCE_GRPC_PORT": str(grpc_port),
        "BALANCE_HTTP_PORT": str(http_port),
        "SAGA_HOME": str(home),
    }
    proc = await start_process(["-m", "saga", "api", "balance"], grpc_port, env)
    return proc, grpc_port, http_port


def credit_op(stub: pb_grpc.BalanceServiceAsyncStub, auth: Metadata, prefix: str) -> Op:
    """One Credit per call, each with its own idempotency key, over 200 accounts."""
    serial = itertools.count()

    async def credit(i: int) -> object:
        return await stub.Credit(
            pb.CreditRequest(
                account_id=f"a{i % 200}", amount=1, idempotency_key=f"{prefix}-{next(serial)}"
            ),
            metadata=auth,
        )

    return credit


def batch_op(stub: pb_grpc.BalanceServiceAsyncStub, auth: Metadata, prefix: str) -> Op:
    """One Batch of BATCH credits per call, each with its own key, over 200 accounts."""
    serial = itertools.count()

    async def batch(i: int) -> object:
        ops = [
            pb.BatchOperation(
                credit=pb.CreditRequest(
                    account_id=f"a{(i + j) % 200}",
                    amount=1,
                    idempotency_key=f"{prefix}-{next(serial)}",
                )
            )
            for j in range(BATCH)
        ]
        answer = await stub.Batch(pb.BatchRequest(operations=ops), metadata=auth)
        assert all(r.WhichOneof("result") == "mutation" for r in answer.results)
        return answer

    return batch


async def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="bench-balance-"))
    valkey = EmbeddedValkey(home / "valkey", free_port(), persistent=False)
    await valkey.start()
    assert valkey.process is not None
    assert valkey.process.pid is not None
    valkey_process = psutil.Process(valkey.process.pid)
    redis = aioredis.Redis.from_url(valkey.url, max_connections=128)
    proc, port, http_port = await start_server(valkey.url, home)
    noop_port = free_port()
    noop = await start_process(["-m", "bench.noop_grpc", str(noop_port)], noop_port, {})
    token = issue_token(DEV_JWT_SECRET, "bench", kind=TokenKind.SERVICE, ttl_seconds=3600)
    auth: Metadata = (("authorization", f"Bearer {token}"),)
    run = time.time_ns()
    try:
        async with (
            aio.insecure_channel(f"127.0.0.1:{port}") as channel,
            aio.insecure_channel(f"127.0.0.1:{noop_port}") as noop_channel,
        ):
            stub = pb_grpc.BalanceServiceStub(channel)
            for n in range(200):
                await stub.Credit(
                    pb.CreditRequest(account_id=f"a{n}", amount=10**9, idempotency_key=f"f{n}"),
                    metadata=auth,
                )
            credit = credit_op(stub, auth, f"c{run}")
            serial = itertools.count()  # every request its own idempotency key

            async def reserve_commit(i: int) -> object:
                held = await stub.Reserve(
                    pb.ReserveRequest(
                        account_id=f"a{i % 200}",
                        amount=5,
                        ttl_seconds=60,
                        idempotency_key=f"r{run}-{next(serial)}",
                    ),
                    metadata=auth,
                )
                return await stub.CommitReservation(
                    pb.CommitReservationRequest(
                        reservation_id=held.reservation.reservation_id,
                        idempotency_key=f"k{run}-{next(serial)}",
                    ),
                    metadata=auth,
                )

            batch_credit = batch_op(stub, auth, f"b{run}")

            noop_credit = credit_op(pb_grpc.BalanceServiceStub(noop_channel), auth, "n")

            # Warm-up: each method's first calls load its script and build its handlers.
            await closed_loop(credit, 16, 1.0)
            await closed_loop(reserve_commit, 16, 1.0)
            await closed_loop(batch_credit, 2, 1.0)
            await closed_loop(noop_credit, 16, 1.0)
            # 500 requests/s: Reserve+Commit is two requests, so 250 pairs/s.
            for name, op, rate in (
                ("Credit", credit, RATE),
                ("Reserve+Commit", reserve_commit, RATE // 2),
            ):
                before = await server_slow_calls(http_port)
                lat, achieved = await open_loop(op, rate, SECONDS)
                after = await server_slow_calls(http_port)
                print(
                    f"{name:15} open loop {rate}/s for {SECONDS:.0f}s: achieved {achieved:.0f}/s  "
                    f"p50 {percentile(lat, 0.5):.2f} ms  p99 {percentile(lat, 0.99):.2f} ms"
                )
                print(
                    f"{'':15} server side (its latency histogram): {after[0] - before[0]} calls, "
                    f"{after[1] - before[1]} took over 10 ms"
                )
            server, floor_server = psutil.Process(proc.pid), psutil.Process(noop.pid)
            # Credit and the no-work floor take turns, so both see the same machine.
            credit_runs, floor_runs = [], []
            unary_valkey = credit_load = floor_load = 0.0
            load = psutil.Process()
            for _ in range(3):
                valkey_at, load_at = cpu_seconds(valkey_process), cpu_seconds(load)
                credit_runs.append(await sustained(credit, server, rounds=1))
                unary_valkey += cpu_seconds(valkey_process) - valkey_at
                credit_load += cpu_seconds(load) - load_at
                load_at = cpu_seconds(load)
                floor_runs.append(await sustained(noop_credit, floor_server, rounds=1))
                floor_load += cpu_seconds(load) - load_at
            unary_valkey_cpu = unary_valkey * 1e6 / sum(r[2] for r in credit_runs)
            credit_load_cpu = credit_load * 1e6 / sum(r[2] for r in credit_runs)
            floor_load_cpu = floor_load * 1e6 / sum(r[2] for r in floor_runs)
            grpc_credit = statistics.median(r[0] for r in credit_runs)
            credit_cpu = statistics.median(r[1] for r in credit_runs)
            floor = statistics.median(r[0] for r in floor_runs)
            floor_cpu = statistics.median(r[1] for r in floor_runs)
            grpc_rc, pair_cpu, _ = await sustained(reserve_commit, server)
            valkey_before = cpu_seconds(valkey_process)
            batches, batch_cpu, calls = await sustained(batch_credit, server, concurrency=4)
            valkey_cpu = (cpu_seconds(valkey_process) - valkey_before) * 1e6 / (calls * BATCH)
        scripts = BalanceScripts(redis)
        await scripts.load()

        async def raw_credit(i: int) -> object:
            account = f"a{i % 200}"
            return await scripts.run(
                ScriptRequest(
                    "credit",
                    [account, "1", "DEPOSIT", "", "", "1"],
                    account,
                    f"raw{run}-{next(serial)}",
                    keys=script_keys.for_credit(account),
                    accounts=[account],
                    transactions=1,
                )
            )

        raw = statistics.median([await closed_loop(raw_credit, 64, 3.0) for _ in range(3)])
        print(
            f"one server process, 64 calls in flight: Credit {grpc_credit:.0f} ops/s, "
            f"Reserve+Commit {grpc_rc:.0f} pairs/s; server CPU per call: Credit "
            f"{credit_cpu:.0f} us, Reserve+Commit {pair_cpu / 2:.0f} us; Valkey CPU per "
            f"unary Credit {unary_valkey_cpu:.0f} us"
        )
        print(
            f"gRPC floor, the same server set-up doing no work (bench/noop_grpc.py), "
            f"taking turns with Credit: {floor:.0f} calls/s at {floor_cpu:.0f} us CPU per call; "
            f"Credit reaches {grpc_credit / floor:.2f} of it"
        )
        print(ceiling(floor_load_cpu, floor_cpu, credit_load_cpu, credit_cpu, unary_valkey_cpu))
        print(
            f"one server process, Batch of {BATCH} credits, 4 calls in flight: "
            f"{batches * BATCH:.0f} ops/s ({batches:.0f} calls/s); server CPU per credit "
            f"{batch_cpu / BATCH:.0f} us, Valkey CPU per credit "
            f"{valkey_cpu:.0f} us"
        )
        used, unused = await server_hinted_entries(http_port)
        print(
            f"ledger entries the server computed ahead (chain_hints.py): {used} used by the "
            f"scripts, {unused} not (the head had moved: hashed in Lua)"
        )
        print(
            f"raw Redis, same credit script via EVALSHA from this process: {raw:.0f} ops/s; "
            f"gRPC/raw ratio {grpc_credit / raw:.2f} (Credit), "
            f"{batches * BATCH / raw:.2f} (Batch)"
        )
        book = BalanceBook.build(redis)
        for i in range(0, 50_000, 100):
            await asyncio.gather(*(raw_credit(i + j) for j in range(100)))
        # Every raw credit above went to a0..a199: verify all of them, whole chains.
        entries, started = 0, time.perf_counter()
        for n in range(200):
            result = await book.ledger.verify(f"a{n}")
            assert result.valid, result
            entries += result.entries_checked
        elapsed = time.perf_counter() - started
        print(
            f"ledger verification: {entries} entries in {elapsed:.2f}s"
            f" = {entries / elapsed:.0f} entries/s"
        )
        started = time.perf_counter()
        await redis.eval(
            (Path(__file__).parents[1] / "domain/balance/lua/sha256.lua").read_text()
            + "\nfor i = 1, 2000 do sha256_hex(ARGV[1]) end return 1",
            0,
            "1|a1|0123456789abcdef0123456789abcdef-1|CREDIT|DEPOSIT|1|0|1000000123|0|1712345678901|"
            + "0" * 64,
        )
        print(
            "Lua SHA-256 of one ledger line inside Valkey: "
            f"{(time.perf_counter() - started) / 2000 * 1e6:.0f} us"
        )
    finally:
        for process in (proc, noop):
            process.terminate()
            await process.wait()
        await redis.aclose()
        await valkey.stop()
    await compare(home)


if __name__ == "__main__":
    asyncio.run(main())

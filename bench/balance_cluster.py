"""The balance service on one Valkey master and on a 3-master Valkey Cluster, same run.

For each store, a fresh `saga api balance` process (with `REDIS_CLUSTER=true` for the
cluster) and 200 funded accounts; then unary Credit and Batch of 100 credits in closed loops,
with the CPU the store's processes (every master) spent per credit. Part of bench/balance.py's
run; alone: .venv/bin/python -m bench.balance_cluster
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]
from grpc import aio

from bench.load import cpu_seconds, sustained
from infra.ports import free_port
from infra.settings import DEV_JWT_SECRET
from infra.tokens import TokenKind, issue_token
from protos.balance.v1 import balance_pb2 as pb
from protos.balance.v1 import balance_pb2_grpc as pb_grpc
from saga.stack.valkey import EmbeddedValkey
from saga.stack.valkey_cluster import EmbeddedValkeyCluster

ACCOUNTS = 200  # as bench/balance.py's operations spread over
Metadata = tuple[tuple[str, str], ...]


async def measure(
    name: str, url: str, cluster: bool, store: list[psutil.Process], home: Path
) -> tuple[float, float]:
    """Print one store's line; its unary Credit and Batch rates (credits/s)."""
    from bench.balance import BATCH, batch_op, credit_op, start_process

    grpc_port, http_port = free_port(), free_port()
    env = {
        "REDIS_URL": url,
        "REDIS_CLUSTER": "true" if cluster else "false",
        "BALANCE_GRPC_PORT": str(grpc_port),
        "BALANCE_HTTP_PORT": str(http_port),
        "SAGA_HOME": str(home),
    }
    proc = await start_process(["-m", "saga", "api", "balance"], grpc_port, env)
    token = issue_token(DEV_JWT_SECRET, "bench", kind=TokenKind.SERVICE, ttl_seconds=3600)
    auth: Metadata = (("authorization", f"Bearer {token}"),)
    run = time.time_ns()
    try:
        async with aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            stub = pb_grpc.BalanceServiceStub(channel)
            for n in range(ACCOUNTS):
                await stub.Credit(
                    pb.CreditRequest(account_id=f"a{n}", amount=10**9, idempotency_key=f"f{n}"),
                    metadata=auth,
                )

            credit, batch = credit_op(stub, auth, f"c{run}"), batch_op(stub, auth, f"b{run}")
            server = psutil.Process(proc.pid)
            await sustained(credit, server, rounds=1)  # warm-up: scripts, connections
            before = sum(cpu_seconds(p) for p in store)
            unary, unary_cpu, unary_calls = await sustained(credit, server)
            unary_store = (sum(cpu_seconds(p) for p in store) - before) * 1e6 / unary_calls
            before = sum(cpu_seconds(p) for p in store)
            batches, batch_cpu, calls = await sustained(batch, server, concurrency=4)
            batch_store = (sum(cpu_seconds(p) for p in store) - before) * 1e6 / (calls * BATCH)
    finally:
        proc.terminate()
        await proc.wait()
    print(
        f"{name:>9}: unary Credit {unary:.0f} ops/s (server {unary_cpu:.0f} us, store "
        f"{unary_store:.0f} us CPU per call); Batch of {BATCH} {batches * BATCH:.0f} "
        f"credits/s (server {batch_cpu / BATCH:.0f} us, store {batch_store:.0f} us per credit)"
    )
    return unary, batches * BATCH


async def compare(home: Path) -> None:
    """One master, then three; print both lines and how the rates scale."""
    single = EmbeddedValkey(home / "valkey-one", free_port(), persistent=False)
    cluster = EmbeddedValkeyCluster(home / "valkey-cluster", masters=3)
    await single.start()
    await cluster.start()
    try:
        assert single.process is not None
        assert single.process.pid is not None
        one = await measure(
            "1 master", single.url, False, [psutil.Process(single.process.pid)], home
        )
        masters = [psutil.Process(n.process.pid) for n in cluster.nodes if n.process is not None]
        three = await measure("3 masters", cluster.url, True, masters, home)
    finally:
        await cluster.stop()
        await single.stop()
    print(
        f"3 masters / 1 master: unary Credit {three[0] / one[0]:.2f}x, Batch "
        f"{three[1] / one[1]:.2f}x (one server process; this machine has "
        f"{psutil.cpu_count()} cores for the server, the masters and this load)"
    )


if __name__ == "__main__":
    asyncio.run(compare(Path(tempfile.mkdtemp(prefix="bench-balance-cluster-"))))

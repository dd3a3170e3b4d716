"""The supervisor's watchdog brings a SIGKILLed stack part back, with its acknowledged data."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import redis.asyncio as aioredis
import redis.exceptions
from rich.console import Console

from infra.ports import free_port
from saga.restarts import RestartPolicy, ServiceChild, StackChild, Watchdog
from saga.stack.process import ManagedProcess
from saga.stack.valkey import EmbeddedValkey
from tests.eventually import assert_eventually

_FAST = RestartPolicy(initial_delay=0.1, max_delay=0.4, stable_after=60)


async def test_killed_valkey_is_restarted_with_every_acknowledged_write(tmp_path: Path) -> None:
    valkey = EmbeddedValkey(tmp_path / "valkey", free_port(), log_dir=tmp_path / "logs")
    await valkey.start()
    stop = asyncio.Event()
    watchdog = Watchdog(Console(quiet=True), policy=_FAST)
    watchdog.watch(StackChild(valkey))
    watching = asyncio.create_task(watchdog.run(stop, interval=0.05))
    client = aioredis.Redis.from_url(valkey.url)
    try:
        # Acknowledged just before the kill: appendfsync always must keep every one of them.
        for i in range(200):
            await client.incr("proof:counter")
            await client.rpush("proof:list", i)
        assert valkey.process is not None
        assert valkey.process.pid is not None
        killed = valkey.process.pid
        os.kill(killed, signal.SIGKILL)

        async def back() -> None:
            assert valkey.process is not None
            assert valkey.process.pid != killed
            try:
                counter, length = await client.get("proof:counter"), await client.llen("proof:list")
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                raise AssertionError(f"not back yet: {exc}") from exc
            assert (counter, length) == (b"200", 200)

        await assert_eventually(back, timeout=20, interval=0.1)
        assert watchdog.restarts() == {"valkey": 1}
    finally:
        stop.set()
        await watching
        with contextlib.suppress(Exception):
            await client.aclose()
        await valkey.stop()


async def test_a_service_that_keeps_crashing_waits_longer_each_time(tmp_path: Path) -> None:
    crashing = ManagedProcess(
        "crasher", [sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "crasher.log"
    )
    crashing.start()
    stop = asyncio.Event()
    watchdog = Watchdog(Console(quiet=True), policy=_FAST)
    watchdog.watch(ServiceChild(crashing))
    watching = asyncio.create_task(watchdog.run(stop, interval=0.02))
    try:
        started = asyncio.get_running_loop().time()

        async def restarted_often() -> None:
            assert watchdog.restarts()["crasher"] >= 4

        await assert_eventually(restarted_often, timeout=20, interval=0.05)
        # 0.1 + 0.2 + 0.4 + 0.4 seconds of backoff at least, capped at max_delay.
        assert asyncio.get_running_loop().time() - started >= 1.0
        assert _FAST.delay(10) == 0.4
    finally:
        stop.set()
        await watching
        await crashing.stop()

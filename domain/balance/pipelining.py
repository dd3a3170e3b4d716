"""Script calls made at the same time share one pipelined round trip to Redis (group commit).

At most `max_in_flight` round trips are out at once. A call made while none is out goes at
once, alone; calls made while the round trips are busy queue, and the next round trip carries
them all. So an idle service pays nothing in latency, and a loaded one pays the Redis client's
per-command cost (pool, socket writes, timeouts: most of what a call cost this process) once
per round trip instead of once per call. bench/balance.py measures both.

A group of calls (one `BalanceService.Batch`) always travels in one round trip, in its order:
Redis runs one connection's commands one after another, so the group is applied in order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from prometheus_client import Histogram
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

MAX_IN_FLIGHT = 2
MAX_ROUND_TRIP_CALLS = 256

CALLS_PER_ROUND_TRIP = Histogram(
    "saga_balance_redis_calls_per_round_trip",
    "Balance script calls that shared one pipelined round trip to Redis",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)


@dataclass
class ScriptCall:
    """One EVALSHA of `script` with `keys` and `argv`; `reply` gets its answer or the error."""

    script: AsyncScript
    keys: Sequence[str]
    argv: Sequence[str]
    reply: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class ScriptPipeline:
    """Queues script calls and sends them in as few round trips as the load allows."""

    def __init__(
        self,
        redis: aioredis.Redis,
        scripts: Sequence[AsyncScript],
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        max_round_trip_calls: int = MAX_ROUND_TRIP_CALLS,
    ) -> None:
        self.redis = redis
        self.scripts = scripts
        self.max_in_flight = max_in_flight
        self.max_round_trip_calls = max_round_trip_calls
        self._queue: deque[list[ScriptCall]] = deque()
        self._in_flight = 0
        self._scheduled = False
        self._round_trips: set[asyncio.Task[None]] = set()

    def submit(self, group: list[ScriptCall]) -> None:
        """Queue `group` to travel together, in order; each call's `reply` tells how it went."""
        if group:
            self._queue.append(group)
            self._schedule()

    def _schedule(self) -> None:
        # One hop through the loop first: handlers woken in the same pass all queue before
        # the round trip leaves.
        if self._queue and not self._scheduled and self._in_flight < self.max_in_flight:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._start)

    def _start(self) -> None:
        self._scheduled = False
        if not self._queue or self._in_flight >= self.max_in_flight:
            return
        calls = list(self._queue.popleft())
        while self._queue and len(calls) + len(self._queue[0]) <= self.max_round_trip_calls:
            calls.extend(self._queue.popleft())
        self._in_flight += 1
        task = asyncio.get_running_loop().create_task(self._round_trip(calls))
        self._round_trips.add(task)
        task.add_done_callback(self._finished)
        self._schedule()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._round_trips.discard(task)
        self._in_flight -= 1
        self._schedule()

    async def _round_trip(self, calls: list[ScriptCall]) -> None:
        CALLS_PER_ROUND_TRIP.observe(len(calls))
        try:
            replies = await self._send(calls)
            unknown = [n for n, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if unknown:
                # Redis lost its script cache (a restart): nothing of those calls ran. Load
                # every script, then send them again in their order.
                for script in self.scripts:
                    await self.redis.script_load(script.script)
                again = await self._send([calls[n] for n in unknown])
                for n, reply in zip(unknown, again, strict=True):
                    replies[n] = reply
        except Exception as exc:
            # The connection failed: a call may or may not have run, as with a lost reply.
            # Its idempotency key makes the caller's retry safe.
            for call in calls:
                if not call.reply.done():
                    call.reply.set_exception(exc)
            return
        for call, reply in zip(calls, replies, strict=True):
            if call.reply.done():  # the caller gave up waiting
                continue
            if isinstance(reply, Exception):
                call.reply.set_exception(reply)
            else:
                call.reply.set_result(reply)

    async def _send(self, calls: list[ScriptCall]) -> list[Any]:
        pipe = self.redis.pipeline(transaction=False)
        for call in calls:
            pipe.execute_command("EVALSHA", call.script.sha, len(call.keys), *call.keys, *call.argv)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies

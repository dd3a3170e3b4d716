"""Script calls made at the same time share one pipelined round trip to Redis (group commit).

At most `max_in_flight` round trips are out at once. A call made while none is out goes at
once, alone; calls made while the round trips are busy queue, and the next round trip carries
them all. So an idle service pays nothing in latency, and a loaded one pays the Redis client's
per-command cost (pool, socket writes, timeouts: most of what a call cost this process) once
per round trip instead of once per call. bench/balance.py measures both.

A group of calls (one `BalanceService.Batch`) always travels in one round trip, in its order:
Redis runs one connection's commands one after another, so the group is applied in order.

Two round trips in flight on two connections run interleaved, in no set order. A change whose
ledger entry was computed ahead (chain_hints.py) counts on the changes to its account queued
before it running first, so a group with such a change waits while another round trip in
flight carries a change to the same account: per account, changes run in the order they
were made, and the entries computed ahead match.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Histogram
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from domain.balance.chain_hints import ExpectedEntry
from domain.balance.replication import ReplicatedSend
from infra.redis import RedisClient

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
    # The ledger entry the call's change should write, and whether it was computed ahead
    # and sent along (chain_hints.py).
    expected: ExpectedEntry | None = None
    hinted: bool = False


class ScriptPipeline:
    """Queues script calls and sends them in as few round trips as the load allows."""

    def __init__(
        self,
        redis: RedisClient,
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
        # Accounts with a foreseen change in a round trip in flight, and how many.
        self._busy: Counter[str] = Counter()
        self._replicated = ReplicatedSend()

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
        calls = self._take()
        if not calls:
            return  # every queued group waits for a round trip in flight: its end starts one
        accounts = Counter(_foreseen(calls))
        self._busy.update(accounts)
        self._in_flight += 1
        task = asyncio.get_running_loop().create_task(self._round_trip(calls))
        self._round_trips.add(task)
        task.add_done_callback(lambda done: self._finished(done, accounts))
        self._schedule()

    def _take(self) -> list[ScriptCall]:
        """The queued groups that may go now, in their order, as many as one round trip holds.

        A group waits if an account it changes has a foreseen change in flight, or in a group
        that waits before it (so per account the queue's order is kept).
        """
        calls: list[ScriptCall] = []
        waiting: list[list[ScriptCall]] = []
        held: set[str] = set()
        while self._queue:
            group = self._queue.popleft()
            if len(calls) + len(group) > self.max_round_trip_calls and calls:
                waiting.append(group)
                break
            touched = set(_foreseen(group))
            if touched & held or any(self._busy[a] for a in touched):
                held |= touched
                waiting.append(group)
                continue
            calls.extend(group)
        self._queue.extendleft(reversed(waiting))
        return calls

    def _finished(self, task: asyncio.Task[None], accounts: Counter[str]) -> None:
        self._round_trips.discard(task)
        self._in_flight -= 1
        for account, count in accounts.items():
            left = self._busy[account] - count
            if left > 0:
                self._busy[account] = left
            else:
                del self._busy[account]
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
        if isinstance(self.redis, RedisCluster):
            return await self._replicated.send(self.redis, calls)
        pipe = self.redis.pipeline(transaction=False)
        for call in calls:
            pipe.execute_command("EVALSHA", call.script.sha, len(call.keys), *call.keys, *call.argv)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies


def _foreseen(calls: Sequence[ScriptCall]) -> list[str]:
    """The accounts of the calls whose ledger entry was foreseen (computed ahead or not)."""
    return [call.expected.account_id for call in calls if call.expected is not None]

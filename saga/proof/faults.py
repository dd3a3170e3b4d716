"""SIGKILL the platform's parts on a schedule and time how long each takes to come back."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from saga.proof.platform import ProofPlatform

# What the issue asks to kill; `saga prove --targets` can name any other part too.
DEFAULT_TARGETS = ("worker", "edge", "relay", "gateway", "game", "temporal", "postgres", "valkey")


@dataclass
class Fault:
    """One SIGKILL: what, when (seconds into the run), and when it served again."""

    target: str
    pid: int
    at: float
    recovered_after: float | None = None


@dataclass
class FaultInjector:
    """Kills one part every `interval` seconds (jittered), each target in turn, shuffled.

    A target whose previous kill has not recovered yet is skipped, so every kill hits a running
    process; recovery is watched in the background and bounded by `recover_timeout`.
    """

    platform: ProofPlatform
    targets: tuple[str, ...] = DEFAULT_TARGETS
    interval: float = 10.0
    recover_timeout: float = 120.0
    rng: random.Random = field(default_factory=random.Random)
    on_fault: Callable[[Fault], None] = lambda _: None
    faults: list[Fault] = field(default_factory=list)
    _recovering: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    async def run(self, stop: asyncio.Event, clock: Callable[[], float]) -> None:
        """Inject faults until `stop` is set; `clock` gives seconds since the run started."""
        queue: list[str] = []
        while not await _stopped_within(stop, self._next_wait()):
            if not queue:
                queue = list(self.targets)
                self.rng.shuffle(queue)
            target = next((t for t in queue if t not in self._recovering), None)
            if target is None:
                continue
            queue.remove(target)
            self._kill(target, clock)

    def _next_wait(self) -> float:
        return self.interval * self.rng.uniform(0.7, 1.3)

    def _kill(self, target: str, clock: Callable[[], float]) -> None:
        pid = self.platform.pid_of(target)
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return  # already gone: the supervisor is restarting it, not our fault to count
        fault = Fault(target, pid, clock())
        self.faults.append(fault)
        self.on_fault(fault)
        task = asyncio.create_task(self._await_recovery(fault, clock))
        self._recovering[target] = task
        task.add_done_callback(lambda _: self._recovering.pop(target, None))

    async def _await_recovery(self, fault: Fault, clock: Callable[[], float]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.recover_timeout
        while loop.time() < deadline:
            with contextlib.suppress(Exception):
                pid = self.platform.pid_of(fault.target)
                if pid not in (None, fault.pid) and await self.platform.healthy(fault.target):
                    fault.recovered_after = clock() - fault.at
                    return
            await asyncio.sleep(0.2)

    async def settle(self) -> None:
        """Wait (bounded by `recover_timeout`) until every killed part served again."""
        pending = list(self._recovering.values())
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def by_target(self) -> dict[str, int]:
        """How many kills each target took."""
        return dict(Counter(f.target for f in self.faults))

    def unrecovered(self) -> list[Fault]:
        """Kills after which the part never served again."""
        return [f for f in self.faults if f.recovered_after is None]


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()

"""The two checks of saga/proof/run.py, fed a fake platform with exactly their flaw.

"every part serves again after the faults" (`_all_healthy`) and "every killed part was
restarted by the supervisor" (the `kills` check, built from `FaultInjector.unrecovered()`,
whose recovery watcher decides what counts as restarted: a new pid that answers healthy).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, cast

from saga.proof.faults import Fault, FaultInjector
from saga.proof.run import _all_healthy, restarted_check


@dataclass
class FakePlatform:
    """Targets with a pid each and a health answer each, changeable while a check runs."""

    pids: dict[str, int]
    down: set[str] = field(default_factory=set)

    def targets(self) -> list[str]:
        return sorted(self.pids)

    async def healthy(self, target: str) -> bool:
        return target not in self.down

    def pid_of(self, target: str) -> int | None:
        return self.pids.get(target)


def _platform(**kw: Any) -> Any:
    return cast(Any, FakePlatform(**kw))


async def test_every_part_healthy_passes() -> None:
    found = await _all_healthy(_platform(pids={"edge": 1, "worker": 2}), timeout=0.0)
    assert found.passed, found.detail
    assert found.checked == 2


async def test_a_part_that_never_serves_again_fails() -> None:
    found = await _all_healthy(_platform(pids={"edge": 1, "worker": 2}, down={"worker"}), 0.0)
    assert not found.passed
    assert found.offenders == ("worker",)


def _injector(platform: Any) -> FaultInjector:
    return FaultInjector(platform, targets=("edge", "worker"), recover_timeout=1.0)


async def _watch(platform: Any, fault: Fault) -> FaultInjector:
    injector = _injector(platform)
    injector.faults.append(fault)
    await injector._await_recovery(fault, lambda: 10.0)
    return injector


async def test_a_killed_part_restarted_under_a_new_pid_counts_as_recovered() -> None:
    platform = _platform(pids={"edge": 101, "worker": 2})
    injector = await _watch(platform, Fault("edge", pid=100, at=5.0))
    assert injector.unrecovered() == []
    assert injector.faults[0].recovered_after == 5.0


async def test_a_killed_part_still_under_its_old_pid_is_unrecovered() -> None:
    # The flaw: the supervisor never restarted it, the dead pid is still what is recorded.
    platform = _platform(pids={"edge": 100, "worker": 2})
    injector = await _watch(platform, Fault("edge", pid=100, at=5.0))
    assert [f.target for f in injector.unrecovered()] == ["edge"]


async def test_a_restarted_part_that_never_answers_healthy_is_unrecovered() -> None:
    platform = _platform(pids={"edge": 101, "worker": 2}, down={"edge"})
    injector = await _watch(platform, Fault("edge", pid=100, at=5.0))
    assert [f.target for f in injector.unrecovered()] == ["edge"]


async def test_a_part_back_before_the_timeout_passes_the_health_check() -> None:
    fake = FakePlatform(pids={"edge": 1}, down={"edge"})

    async def come_back() -> None:
        await asyncio.sleep(0.3)
        fake.down.clear()

    task = asyncio.create_task(come_back())
    found = await _all_healthy(cast(Any, fake), timeout=5.0)
    await task
    assert found.passed, found.detail


async def test_the_restart_check_names_each_kill_that_never_came_back() -> None:
    platform = _platform(pids={"edge": 101, "worker": 200})
    injector = await _watch(platform, Fault("edge", pid=100, at=5.0))
    assert restarted_check(injector).passed
    # The flaw: the worker was killed and is still under its old pid.
    stuck = Fault("worker", pid=200, at=12.0)
    injector.faults.append(stuck)
    await injector._await_recovery(stuck, lambda: 20.0)
    found = restarted_check(injector)
    assert not found.passed
    assert found.checked == 2
    assert found.offenders == ("worker (killed at 12s) never came back",)

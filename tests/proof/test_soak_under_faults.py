"""The short proof: a real `saga up` under load while each kind of part is SIGKILLed once.

`saga prove --minutes N` is the long version of the same run (saga/proof/run.py).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from saga.proof.faults import DEFAULT_TARGETS
from saga.proof.run import ProofConfig, prove

pytestmark = pytest.mark.e2e

# Nine kills 2.4 s (+-30%) apart fit in 32 s of load even at the slow end of the jitter, so
# the worker, edge, relay, gateway, game, events, Temporal, PostgreSQL and Valkey die once each.
SHORT = ProofConfig(
    seconds=32,
    order_rate=3,
    balance_rate=25,
    balance_clients=4,
    fault_interval=2.4,
    answer_timeout=60,
    settle_timeout=90,
    seed=7,
    command="pytest tests/proof",
)


async def test_nothing_is_lost_while_every_part_is_killed(tmp_path: Path) -> None:
    report = await prove(SHORT, tmp_path / "home")

    failed = [f"{c.name}: {c.detail}" for c in report.checks if not c.passed]
    assert failed == [], "\n".join(failed)
    assert set(report.faults) == set(DEFAULT_TARGETS), report.faults
    assert (report.orders_lost, report.chips_lost) == (0, 0)
    # The run did real work: orders took every path and balance calls moved chips.
    assert report.orders_confirmed > 0
    assert report.failure_reasons.keys() >= {"CAPTURE_DECLINED", "OUT_OF_STOCK"}
    assert report.orders_declined > 0
    assert report.balance_calls > 100
    assert report.balance_refused > 0
    # Bots played hands to the end at the tables through it all.
    assert report.hands_played > 0


# On a cluster: a master is killed twice (its replica takes over, the node comes back as a
# replica), the worker and the balance-facing game front once each, under the same load.
ON_CLUSTER = replace(
    SHORT,
    seconds=24,
    fault_interval=3.0,
    targets=("valkey", "worker", "valkey", "game"),
    seed=11,
    cluster=True,
)


async def test_nothing_is_lost_while_cluster_masters_fail_over(tmp_path: Path) -> None:
    report = await prove(ON_CLUSTER, tmp_path / "home")

    failed = [f"{c.name}: {c.detail}" for c in report.checks if not c.passed]
    assert failed == [], "\n".join(failed)
    assert report.faults.get("valkey", 0) >= 1, report.faults
    assert (report.orders_lost, report.chips_lost) == (0, 0)
    assert report.balance_calls > 100
    assert report.hands_played > 0

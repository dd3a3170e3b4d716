"""What the poker tables did, for Prometheus: tables, actions, clocks, hands and their chips.

Counted outside the table workflows (a workflow replays, so its own counts would repeat): the
game front times each player's action (`timed_action`), and the activity that publishes a
table's events counts what they show (`count_table_events`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from prometheus_client import Counter, Histogram

from domain.errors import DomainError

TABLES_OPENED = Counter("saga_game_tables_opened_total", "Tables opened (a table workflow started)")
ACTIONS = Counter(
    "saga_game_actions_total",
    "Player actions by outcome: accepted, refused (a rule said no), failed, timed_out (the clock)",
    ["outcome"],
)
ACTION_LATENCY = Histogram(
    "saga_game_action_seconds",
    "From a player's action reaching the game front to the table's answer, by outcome",
    ["outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
CLOCK_TIMEOUTS = Counter(
    "saga_game_clock_timeouts_total", "Actions the table took for a player whose clock ran out"
)
HANDS = Counter("saga_game_hands_total", "Hands played to the end")
CHIP_MISMATCHES = Counter(
    "saga_game_chip_mismatch_total",
    "Hands whose chips do not add up: the players' net results plus the rake are not zero",
)


@contextmanager
def timed_action() -> Iterator[None]:
    """Count one player's action by its outcome and time the table's answer."""
    started = time.perf_counter()
    outcome = "failed"
    try:
        yield
        outcome = "accepted"
    except DomainError:
        outcome = "refused"
        raise
    finally:
        ACTIONS.labels(outcome).inc()
        ACTION_LATENCY.labels(outcome).observe(time.perf_counter() - started)


def chips_conserved(hand_ended: Mapping[str, Any]) -> bool:
    """Whether a `hand.ended` event's chips add up: what players won and lost, plus rake, is 0."""
    net = hand_ended.get("net") or {}
    return sum(int(v) for v in net.values()) + int(hand_ended.get("rake") or 0) == 0


def count_table_events(events: Iterable[Mapping[str, Any]]) -> None:
    """Count what a table's published events show: clock timeouts, hands ended, chip balance."""
    for data in events:
        kind = data.get("kind")
        if kind == "player.acted" and data.get("timed_out"):
            CLOCK_TIMEOUTS.inc()
            ACTIONS.labels("timed_out").inc()
        elif kind == "hand.ended":
            HANDS.inc()
            if not chips_conserved(data):
                CHIP_MISMATCHES.inc()

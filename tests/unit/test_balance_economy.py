"""Velocity arithmetic and the stale read cache."""

from __future__ import annotations

from collections import deque

import pytest

from domain.balance.economy import CHIP_SINKS, CHIP_SOURCES, count_movement, velocity_per_hour
from domain.balance.read_cache import BalanceReadCache
from domain.balance.types import AccountBalance


def test_velocity_is_hourly_turnover_of_the_supply() -> None:
    samples = deque([(0.0, 1_000), (60.0, 2_000)])
    assert velocity_per_hour(samples, supply=60_000) == pytest.approx(1.0)
    assert velocity_per_hour([(0.0, 5)], supply=10) == 0.0
    assert velocity_per_hour(samples, supply=0) == 0.0
    assert velocity_per_hour([(5.0, 1), (5.0, 9)], supply=10) == 0.0


def test_movements_count_as_sources_or_sinks_by_source() -> None:
    sources = CHIP_SOURCES.labels("BONUS")._value.get()
    sinks = CHIP_SINKS.labels("BUY_IN")._value.get()
    count_movement("BONUS", 40)
    count_movement("BUY_IN", -15)
    count_movement("BUY_IN", 0)
    assert CHIP_SOURCES.labels("BONUS")._value.get() == sources + 40
    assert CHIP_SINKS.labels("BUY_IN")._value.get() == sinks + 15


def test_the_cache_keeps_the_newest_version_and_marks_it_stale() -> None:
    cache = BalanceReadCache(max_entries=2)
    cache.put(AccountBalance("a", 10, 0, 2))
    cache.put(AccountBalance("a", 5, 0, 1))
    stale = cache.stale("a")
    assert stale is not None
    assert (stale.balance, stale.stale) == (10, True)
    cache.put(AccountBalance("b", 1, 0, 1))
    cache.put(AccountBalance("c", 1, 0, 1))
    assert cache.stale("a") is None
    assert len(cache) == 2

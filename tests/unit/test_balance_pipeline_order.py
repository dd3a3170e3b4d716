"""Per account, foreseen changes leave in the order they were made, even across round trips.

Two round trips in flight run interleaved in Valkey; a change whose ledger entry was computed
ahead counts on the earlier changes to its account running first (chain_hints.py). So a group
waits while a round trip in flight, or a group waiting before it, changes one of its accounts.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, cast

from redis.commands.core import AsyncScript

from domain.balance.chain_hints import ExpectedEntry
from domain.balance.pipelining import ScriptCall, ScriptPipeline


def _group(*accounts: str) -> list[ScriptCall]:
    script = cast(AsyncScript, object())
    return [
        ScriptCall(script, [], [], expected=ExpectedEntry(a, "CREDIT", "DEPOSIT", 1))
        for a in accounts
    ]


def _pipeline(busy: dict[str, int], *groups: list[ScriptCall], size: int = 256) -> ScriptPipeline:
    pipeline = ScriptPipeline(cast(Any, None), [], max_round_trip_calls=size)
    pipeline._busy = Counter(busy)
    pipeline._queue.extend(groups)
    return pipeline


def _accounts(calls: list[ScriptCall]) -> list[str]:
    return [c.expected.account_id for c in calls if c.expected is not None]


async def test_a_group_waits_while_its_account_is_in_flight() -> None:
    first, second, third = _group("ann", "bob"), _group("cy"), _group("dee", "ann")
    pipeline = _pipeline({"ann": 1}, first, second, third)
    assert _accounts(pipeline._take()) == ["cy"]
    assert list(pipeline._queue) == [first, third]


async def test_a_group_behind_a_waiting_one_on_the_same_account_waits_too() -> None:
    waiting, behind, free = _group("ann", "bob"), _group("bob"), _group("eve")
    pipeline = _pipeline({"ann": 1}, waiting, behind, free)
    # "bob" is in no round trip, but a group waiting before this one changes it first.
    assert _accounts(pipeline._take()) == ["eve"]
    assert list(pipeline._queue) == [waiting, behind]


async def test_with_nothing_in_flight_groups_go_in_order_up_to_a_full_round_trip() -> None:
    groups = [_group("ann", "bob"), _group("ann"), _group("bob", "cy")]
    pipeline = _pipeline({}, *groups, size=3)
    assert _accounts(pipeline._take()) == ["ann", "bob", "ann"]
    assert list(pipeline._queue) == [groups[2]]


async def test_calls_without_a_foreseen_entry_never_wait() -> None:
    script = cast(AsyncScript, object())
    plain = [ScriptCall(script, [], [])]
    pipeline = _pipeline({"ann": 2}, plain)
    assert pipeline._take() == plain

"""Each poker invariant of the proof fails on exactly the flaw it names, and passes otherwise."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from saga.proof.event_checks import check_events
from saga.proof.poker_checks import TableFacts, check_tables

TABLE = "t0000000001"


def _hand(n: int, seq: int) -> list[dict[str, Any]]:
    hand_id = f"{TABLE}-h{n}"
    return [
        {"kind": "hand.started", "hand_id": hand_id, "seq": seq},
        {"kind": "player.acted", "hand_id": hand_id, "seq": seq + 1, "user_id": "a"},
        {
            "kind": "hand.ended",
            "hand_id": hand_id,
            "seq": seq + 2,
            "pots": [{"amount": 20, "rake": 0, "winners": ["a"]}],
            "returned": {"a": 5},
        },
    ]


def good() -> TableFacts:
    events = _hand(1, 1) + _hand(2, 4)
    return TableFacts(
        TABLE,
        events,
        {
            "seats": [{"user_id": "a", "stack": 510}, {"user_id": "b", "stack": 490}],
            "hand": None,
            "last_event_seq": 6,
        },
        pots={f"{TABLE}-h{n}": {"status": "SETTLED", "total": 25} for n in (1, 2)},
        seat_balances={"a": 510, "b": 490},
    )


def _failed(fact: TableFacts) -> list[str]:
    return [c.name for c in check_tables([fact]) if not c.passed]


def test_a_clean_table_passes_every_check() -> None:
    assert _failed(good()) == []


def _dealt_twice(f: TableFacts) -> None:
    f.events.append({**f.events[0], "seq": 7})


def _never_ended(f: TableFacts) -> None:
    f.events = [e for e in f.events if not (e["kind"] == "hand.ended" and e["seq"] == 3)]
    for seq, event in enumerate(f.events, start=1):
        event["seq"] = seq


def _underpaid(f: TableFacts) -> None:
    f.pots[f"{TABLE}-h2"]["total"] = 24


def _unsettled(f: TableFacts) -> None:
    f.pots[f"{TABLE}-h1"]["status"] = "OPEN"


def _gap(f: TableFacts) -> None:
    f.events[-1]["seq"] = 9


def _leak(f: TableFacts) -> None:
    f.events.append({"kind": "hole.cards", "cards": ["As", "Kd"], "seq": 7})


def _seat_off(f: TableFacts) -> None:
    f.seat_balances["b"] = 480


FLAWS: list[tuple[str, Callable[[TableFacts], None], str]] = [
    ("dealt twice", _dealt_twice, "every hand dealt once and ended, none lost"),
    ("never ended", _never_ended, "every hand dealt once and ended, none lost"),
    ("pot underpaid", _underpaid, "every pot paid in full (payouts + returned + rake)"),
    ("pot not settled", _unsettled, "every pot paid in full (payouts + returned + rake)"),
    ("event number skipped", _gap, "table events numbered once each, none missing"),
    ("hole cards public", _leak, "no hole card on a public channel"),
    ("seat account off", _seat_off, "every seat account holds the stack the table shows"),
]


@pytest.mark.parametrize(("flaw", "spoil", "name"), FLAWS, ids=[f[0] for f in FLAWS])
def test_each_flaw_fails_its_own_check(
    flaw: str, spoil: Callable[[TableFacts], None], name: str
) -> None:
    fact = copy.deepcopy(good())
    spoil(fact)
    assert _failed(fact) == [name], flaw


def test_every_poker_check_has_a_flaw_here() -> None:
    assert {c.name for c in check_tables([good()])} == {name for _, _, name in FLAWS}


def test_an_event_lost_or_stored_twice_is_caught() -> None:
    assert [c.passed for c in check_events({"events:sessions:1-0": 1, "t1-h1": 1})] == [True]
    failed = check_events({"events:sessions:1-0": 1, "t1-h1": 0, "t1-h2": 2})[0]
    assert not failed.passed
    assert failed.offenders == ("t1-h1 stored 0 times", "t1-h2 stored 2 times")

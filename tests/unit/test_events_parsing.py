"""Stream entries become events, or are refused with a reason that says what was wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.events.model import HAND_STREAM, Event, EventType, Malformed, parse_entry
from domain.gateway.sessions import SESSION_STREAM

STARTED = {
    b"type": b"SESSION_STARTED",
    b"connection_id": b"c-1",
    b"user_id": b"alice",
    b"client_type": b"web",
    b"instance_id": b"gw-1",
    b"at": b"1700000000.25",
}
HAND: dict[str, Any] = {
    "type": "HAND_ENDED",
    "event_id": "t0123456789-h1",
    "table_id": "t0123456789",
    "hand_id": "t0123456789-h1",
    "players": ["alice", "bob"],
    "winners": ["alice"],
    "net": {"alice": 95, "bob": -100},
    "rake": 5,
    "at": "2024-05-01T12:00:00+00:00",
}


def _hand(**changes: Any) -> dict[bytes, bytes]:
    return {b"data": json.dumps({**HAND, **changes}).encode()}


def test_a_session_entry_is_an_event_named_by_its_stream_and_entry_id() -> None:
    event = parse_entry(SESSION_STREAM, "1-0", STARTED)
    assert isinstance(event, Event)
    assert event.event_id == "events:sessions:1-0"
    assert (event.type, event.user_id, event.user_ids) == (
        EventType.SESSION_STARTED,
        "alice",
        ("alice",),
    )
    assert event.at.timestamp() == 1700000000.25
    assert event.data == {"connection_id": "c-1", "client_type": "web", "instance_id": "gw-1"}


def test_a_hand_entry_is_named_by_its_hand_and_carries_the_stats() -> None:
    event = parse_entry(HAND_STREAM, "5-0", _hand())
    assert isinstance(event, Event)
    assert event.event_id == "t0123456789-h1"
    assert event.user_id is None
    assert event.user_ids == ("alice", "bob")
    assert event.hand is not None
    assert event.hand.winners == {"alice"}
    assert event.data["net"] == {"alice": 95, "bob": -100}


@pytest.mark.parametrize(
    ("stream", "fields", "reason"),
    [
        (SESSION_STREAM, {}, "no fields"),
        (SESSION_STREAM, {**STARTED, b"user_id": b""}, "user_id"),
        (SESSION_STREAM, {**STARTED, b"user_id": b"a b"}, "user_id"),
        (SESSION_STREAM, {**STARTED, b"type": b"SESSION_PAUSED"}, "type"),
        (SESSION_STREAM, {**STARTED, b"at": b"yesterday"}, "at"),
        (SESSION_STREAM, {**STARTED, b"at": b"nan"}, "at"),
        (SESSION_STREAM, {**STARTED, b"type": b"SESSION_ENDED"}, "duration_ms"),
        (SESSION_STREAM, {**STARTED, b"client_type": b"\xff\xfe"}, "UTF-8"),
        (SESSION_STREAM, {**STARTED, b"client_type": b"w\x00b"}, "NUL"),
        (HAND_STREAM, {b"data": b"{not json"}, "JSON"),
        (HAND_STREAM, {b"data": b"[1, 2]"}, "object"),
        (HAND_STREAM, {b"payload": b"{}"}, "one field"),
        (HAND_STREAM, _hand(winners=["carol"]), "winners"),
        (HAND_STREAM, _hand(net={"alice": 5}), "same players"),
        (HAND_STREAM, _hand(net={"alice": "5", "bob": -5}), "net"),
        (HAND_STREAM, _hand(at="2024-05-01T12:00:00"), "at"),
        (HAND_STREAM, _hand(event_id=""), "event_id"),
        ("events:other", STARTED, "no event comes from"),
    ],
)
def test_what_is_no_event_is_refused_with_its_reason(
    stream: str, fields: dict[bytes, bytes], reason: str
) -> None:
    refused = parse_entry(stream, "9-0", fields)
    assert isinstance(refused, Malformed), refused
    assert reason.lower() in refused.reason.lower(), refused.reason
    assert "\x00" not in json.dumps(refused.fields)

"""Events as the platform stores them, and how a stream entry becomes one (or is refused).

Two streams feed the store: the gateway's `events:sessions` (flat fields, one entry per session
start and end; the event id is `<stream>:<entry id>`) and the game's `events:hands` (one field
`data`, a HAND_ENDED JSON document whose `event_id` is the hand id, so a hand appended twice is
one event). Anything else is `Malformed`, with the reason, and is parked rather than stored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from domain.gateway.sessions import SESSION_STREAM
from domain.players.profiles import PLAYER_ID, HandResult

# The game appends here (activities/game.py keeps its own copy of the name).
HAND_STREAM = "events:hands"
STREAMS = (SESSION_STREAM, HAND_STREAM)

_TEXT = r"^[^\x00-\x1f\x7f]*$"
_PlayerId = Annotated[str, Field(pattern=PLAYER_ID.pattern)]
_Text = Annotated[str, Field(max_length=200, pattern=_TEXT)]
# Far beyond any stack, far below BIGINT: a sum of these cannot overflow a stats column.
_Chips = Annotated[int, Field(ge=-(10**12), le=10**12)]


class EventType(StrEnum):
    """The kinds of event the store keeps."""

    SESSION_STARTED = "SESSION_STARTED"
    SESSION_ENDED = "SESSION_ENDED"
    HAND_ENDED = "HAND_ENDED"


@dataclass(frozen=True)
class Event:
    """One stored event; `user_ids` are everyone it concerns (the session's user, the hand's)."""

    event_id: str
    type: EventType
    user_id: str | None
    user_ids: tuple[str, ...]
    at: datetime
    data: dict[str, Any]
    stream: str
    entry_id: str
    hand: HandResult | None = None


@dataclass(frozen=True)
class Malformed:
    """A stream entry that is no valid event, with why and its fields as text."""

    stream: str
    entry_id: str
    reason: str
    fields: dict[str, str]


def event_id_for(stream: str, entry_id: str) -> str:
    """The event id of a session entry: its stream and entry id."""
    return f"{stream}:{entry_id}"


class _Session(BaseModel):
    """The gateway's flat fields (domain/gateway/sessions.py); extra fields are kept as data."""

    model_config = ConfigDict(extra="allow")

    type: Literal["SESSION_STARTED", "SESSION_ENDED"]
    user_id: _PlayerId
    connection_id: Annotated[str, Field(min_length=1, max_length=200, pattern=_TEXT)]
    at: float
    client_type: _Text | None = None
    instance_id: _Text | None = None
    duration_ms: Annotated[int, Field(ge=0, le=10**12)] | None = None
    close_code: Annotated[int, Field(ge=0, le=65_535)] | None = None


class _Hand(BaseModel):
    """The game's HAND_ENDED document (activities/game.py `_record_result`)."""

    model_config = ConfigDict(extra="allow", strict=True)

    type: Literal["HAND_ENDED"]
    event_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,200}$")]
    table_id: _Text
    hand_id: _Text
    players: Annotated[list[_PlayerId], Field(min_length=1, max_length=20)]
    winners: Annotated[list[_PlayerId], Field(max_length=20)]
    net: dict[_PlayerId, _Chips]
    rake: Annotated[int, Field(ge=0, le=10**12)]
    at: AwareDatetime


def parse_entry(stream: str, entry_id: str, raw: Mapping[Any, Any]) -> Event | Malformed:
    """The event of one stream entry, or why it is none."""
    fields, problem = decode_fields(raw)

    def refused(reason: str) -> Malformed:
        return Malformed(stream, entry_id, reason[:500], fields)

    if problem is not None:
        return refused(problem)
    if not fields:
        return refused("the entry has no fields (empty, or trimmed before it was stored)")
    try:
        if stream == SESSION_STREAM:
            return _session(stream, entry_id, fields)
        if stream == HAND_STREAM:
            return _hand(stream, entry_id, fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "entry"
        return refused(f"{where}: {first['msg']}")
    except ValueError as exc:
        return refused(str(exc))
    return refused(f"no event comes from stream {stream!r}")


def decode_fields(raw: Mapping[Any, Any]) -> tuple[dict[str, str], str | None]:
    """An entry's fields as text (for a parked copy too), and what made them no text."""
    fields: dict[str, str] = {}
    problem: str | None = None
    for key, value in raw.items():
        name, name_problem = _text(key)
        text, text_problem = _text(value)
        fields[name] = text
        problem = problem or name_problem or text_problem
    return fields, problem


def _text(part: object) -> tuple[str, str | None]:
    """The part as text that a parked copy can hold (JSONB refuses NUL), and what was wrong."""
    if isinstance(part, bytes):
        try:
            text = part.decode()
        except UnicodeDecodeError:
            return part.decode(errors="replace").replace("\x00", "\ufffd"), "a field is not UTF-8"
    else:
        text = str(part)
    if "\x00" in text:
        return text.replace("\x00", "\ufffd"), "a field carries a NUL character"
    return text, None


def _session(stream: str, entry_id: str, fields: dict[str, str]) -> Event:
    session = _Session.model_validate(fields)
    if not math.isfinite(session.at) or not 0 < session.at < 10**11:
        raise ValueError("at: not a time in unix seconds")
    if session.type == EventType.SESSION_ENDED and session.duration_ms is None:
        raise ValueError("duration_ms: a SESSION_ENDED needs the session's duration")
    data = session.model_dump(exclude={"type", "user_id", "at"}, exclude_none=True)
    if any(len(str(value)) > 1_000 for value in data.values()):
        raise ValueError("a field is longer than 1000 characters")
    return Event(
        event_id=event_id_for(stream, entry_id),
        type=EventType(session.type),
        user_id=session.user_id,
        user_ids=(session.user_id,),
        at=datetime.fromtimestamp(session.at, UTC),
        data=data,
        stream=stream,
        entry_id=entry_id,
    )


def _hand(stream: str, entry_id: str, fields: dict[str, str]) -> Event:
    if set(fields) != {"data"}:
        raise ValueError("a hand entry has exactly one field, data")
    hand = _Hand.model_validate_json(fields["data"])
    if set(hand.players) != set(hand.net) or len(hand.players) != len(set(hand.players)):
        raise ValueError("players and net must name the same players, each once")
    if not set(hand.winners) <= set(hand.players):
        raise ValueError("winners must be players of the hand")
    extra = hand.model_extra or {}
    if len(json.dumps(extra)) > 10_000:
        raise ValueError("data carries more than 10000 characters of extra fields")
    data = {**hand.model_dump(exclude={"type", "event_id", "at"}), **extra}
    return Event(
        event_id=hand.event_id,
        type=EventType.HAND_ENDED,
        user_id=None,
        user_ids=tuple(sorted(hand.players)),
        at=hand.at.astimezone(UTC),
        data=data,
        stream=stream,
        entry_id=entry_id,
        hand=HandResult(net=dict(hand.net), winners=frozenset(hand.winners)),
    )

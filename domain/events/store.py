"""The event store: each event once by its id, the parked entries, and reads by user and type."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from domain.events.model import Event, EventType, Malformed
from domain.players.profiles import HandResult, PlayerRepository
from infra.db.connection import Connection

MAX_LIMIT = 500
_COLUMNS = "event_id, type, user_id, user_ids, at, data, stream, entry_id"
_SELECTED = "event_id, type, user_id, user_ids, at, data::text AS data, stream, entry_id"


@dataclass(frozen=True)
class ParkedEntry:
    """A stream entry that was acknowledged without being stored, and why."""

    stream: str
    entry_id: str
    reason: str
    fields: dict[str, str]
    parked_at: datetime


def _event(row: asyncpg.Record) -> Event:
    data: dict[str, Any] = json.loads(row["data"])
    hand = None
    if row["type"] == EventType.HAND_ENDED:
        hand = HandResult(net=data.get("net", {}), winners=frozenset(data.get("winners", ())))
    return Event(
        event_id=row["event_id"],
        type=EventType(row["type"]),
        user_id=row["user_id"],
        user_ids=tuple(row["user_ids"]),
        at=row["at"],
        data=data,
        stream=row["stream"],
        entry_id=row["entry_id"],
        hand=hand,
    )


class EventStore:
    """Events through one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def record(self, event: Event) -> bool:
        """Store `event` unless its id is stored already; True when stored now.

        The insert and the players' stats move in one transaction: an event seen again (a
        replayed stream entry, a hand appended twice) changes neither.
        """
        async with self._conn.transaction():
            stored = await self._conn.fetchval(
                f"INSERT INTO events ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8) "
                "ON CONFLICT (event_id) DO NOTHING RETURNING true",
                event.event_id,
                event.type.value,
                event.user_id,
                list(event.user_ids),
                event.at,
                json.dumps(event.data),
                event.stream,
                event.entry_id,
            )
            if stored and event.hand is not None:
                await PlayerRepository(self._conn).apply_hand(event.hand)
        return bool(stored)

    async def park(self, entry: Malformed) -> bool:
        """Keep a malformed entry with its reason (once per entry); True when parked now."""
        parked = await self._conn.fetchval(
            "INSERT INTO events_parked (stream, entry_id, reason, fields) "
            "VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT DO NOTHING RETURNING true",
            entry.stream,
            entry.entry_id,
            entry.reason,
            json.dumps(entry.fields),
        )
        return bool(parked)

    async def find(
        self,
        *,
        user_id: str | None = None,
        event_type: EventType | None = None,
        limit: int = 50,
    ) -> list[Event]:
        """The newest events first, of one user (any it concerns) and of one type if given."""
        rows = await self._conn.fetch(
            f"SELECT {_SELECTED} FROM events "
            "WHERE ($1::text IS NULL OR user_ids @> ARRAY[$1::text]) "
            "AND ($2::text IS NULL OR type = $2) "
            "ORDER BY at DESC, event_id DESC LIMIT $3",
            user_id,
            event_type.value if event_type is not None else None,
            max(1, min(limit, MAX_LIMIT)),
        )
        return [_event(row) for row in rows]

    async def parked(self, limit: int = 100) -> list[ParkedEntry]:
        """The latest parked entries."""
        rows = await self._conn.fetch(
            "SELECT stream, entry_id, reason, fields::text AS fields, parked_at "
            "FROM events_parked ORDER BY parked_at DESC LIMIT $1",
            limit,
        )
        return [
            ParkedEntry(
                r["stream"], r["entry_id"], r["reason"], json.loads(r["fields"]), r["parked_at"]
            )
            for r in rows
        ]


async def count_by_event_id(conn: Connection, event_ids: Iterable[str]) -> dict[str, int]:
    """How many stored rows each id has (0 when missing): what a proof checks is exactly 1."""
    wanted = list(dict.fromkeys(event_ids))
    rows = await conn.fetch(
        "SELECT event_id, count(*) AS n FROM events WHERE event_id = ANY($1::text[]) "
        "GROUP BY event_id",
        wanted,
    )
    found = {row["event_id"]: int(row["n"]) for row in rows}
    return {event_id: found.get(event_id, 0) for event_id in wanted}

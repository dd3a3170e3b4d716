"""What a product owner asks of the events: sessions and players per day, session length, hands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from infra.db.connection import Connection

MAX_DAYS = 90


@dataclass(frozen=True)
class DayFigures:
    """One UTC day."""

    day: date
    sessions: int
    players: int
    median_session_seconds: float | None


@dataclass(frozen=True)
class HourFigures:
    """One UTC hour."""

    hour: datetime
    hands: int


@dataclass(frozen=True)
class Aggregates:
    """Figures over [since, until), every day and hour listed (zero when nothing happened)."""

    since: datetime
    until: datetime
    sessions: int
    players: int
    median_session_seconds: float | None
    days: list[DayFigures]
    hands_per_hour: list[HourFigures]


def window(days: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """From the start of the UTC day `days - 1` days ago until `now`."""
    until = now or datetime.now(UTC)
    first = until.astimezone(UTC).date() - timedelta(days=max(1, min(days, MAX_DAYS)) - 1)
    return datetime.combine(first, time(), UTC), until


# Sessions are counted where they start and measured where they end (SESSION_ENDED carries the
# duration); players are distinct users with any event that day, so a player who only plays
# through the HTTP API counts too.
_PER_DAY = """
SELECT (at AT TIME ZONE 'UTC')::date AS day,
       count(*) FILTER (WHERE type = 'SESSION_STARTED') AS sessions,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY (data->>'duration_ms')::numeric / 1000)
           FILTER (WHERE type = 'SESSION_ENDED') AS median_seconds
FROM events WHERE at >= $1 AND at < $2 GROUP BY 1
"""
_PLAYERS_PER_DAY = """
SELECT (at AT TIME ZONE 'UTC')::date AS day, count(DISTINCT u) AS players
FROM events, unnest(user_ids) AS u WHERE at >= $1 AND at < $2 GROUP BY 1
"""
_TOTALS = """
SELECT count(*) FILTER (WHERE type = 'SESSION_STARTED') AS sessions,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY (data->>'duration_ms')::numeric / 1000)
           FILTER (WHERE type = 'SESSION_ENDED') AS median_seconds,
       (SELECT count(DISTINCT u) FROM events, unnest(user_ids) AS u
         WHERE at >= $1 AND at < $2) AS players
FROM events WHERE at >= $1 AND at < $2
"""
_HANDS_PER_HOUR = """
SELECT date_trunc('hour', at AT TIME ZONE 'UTC') AS hour, count(*) AS hands
FROM events WHERE type = 'HAND_ENDED' AND at >= $1 AND at < $2 GROUP BY 1
"""


def _seconds(value: object) -> float | None:
    return None if value is None else round(float(value), 3)  # type: ignore[arg-type]


async def aggregates(conn: Connection, since: datetime, until: datetime) -> Aggregates:
    """The figures of [since, until)."""
    per_day = {r["day"]: r for r in await conn.fetch(_PER_DAY, since, until)}
    players = {r["day"]: r["players"] for r in await conn.fetch(_PLAYERS_PER_DAY, since, until)}
    hands = {
        r["hour"].replace(tzinfo=UTC): r["hands"]
        for r in await conn.fetch(_HANDS_PER_HOUR, since, until)
    }
    totals = await conn.fetchrow(_TOTALS, since, until)
    assert totals is not None  # an aggregate without GROUP BY always yields one row
    days = []
    day = since.astimezone(UTC).date()
    while day <= until.astimezone(UTC).date():
        row = per_day.get(day)
        days.append(
            DayFigures(
                day=day,
                sessions=row["sessions"] if row else 0,
                players=players.get(day, 0),
                median_session_seconds=_seconds(row["median_seconds"]) if row else None,
            )
        )
        day += timedelta(days=1)
    hours = []
    hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    while hour < until:
        hours.append(HourFigures(hour, hands.get(hour, 0)))
        hour += timedelta(hours=1)
    return Aggregates(
        since=since,
        until=until,
        sessions=totals["sessions"],
        players=totals["players"],
        median_session_seconds=_seconds(totals["median_seconds"]),
        days=days,
        hands_per_hour=hours,
    )

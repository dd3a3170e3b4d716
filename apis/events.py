"""The event front (DESIGN 7): stored events by user and type, aggregates, and the consumer.

The stream consumer runs inside this process (started and stopped by its lifespan), so the
front's /health says whether events are being stored and its /metrics carry the consumer's
series. Several instances may run: they share the consumer group, each under its own name.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any, cast

import asyncpg
import redis.asyncio as aioredis
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from apis.auth import Caller, ServiceCaller, require_acting_for
from apis.fronts import http_front
from apis.problems import PROBLEM_RESPONSES
from domain.events.aggregates import MAX_DAYS, Aggregates, aggregates, window
from domain.events.consumer import ConsumerConfig, EventConsumer
from domain.events.model import Event, EventType
from domain.events.settings import EventSettings
from domain.events.store import MAX_LIMIT, EventStore
from domain.players.profiles import PLAYER_ID
from infra.db.pool import create_pool
from infra.redis import platform_redis

router = APIRouter(responses=PROBLEM_RESPONSES, tags=["events"])


async def _pool(request: Request) -> asyncpg.Pool:
    found: asyncpg.Pool = request.app.state.pool
    return found


Pool = Annotated[asyncpg.Pool, Depends(_pool)]


class EventOut(BaseModel):
    """One stored event; `data` holds the fields of its kind (a hand's net chips, ...)."""

    event_id: str
    type: EventType
    user_id: str | None
    user_ids: list[str]
    at: datetime
    stream: str
    entry_id: str
    data: dict[str, Any]


class EventsOut(BaseModel):
    """GET /events: newest first."""

    events: list[EventOut]


class DayOut(BaseModel):
    """One UTC day: sessions started, distinct users with any event, median session length."""

    day: date
    sessions: int
    players: int
    median_session_seconds: float | None


class HourOut(BaseModel):
    """One UTC hour: hands that ended in it."""

    hour: datetime
    hands: int


class AggregatesOut(BaseModel):
    """GET /events/aggregates: totals over the window, then every day and hour of it."""

    since: datetime
    until: datetime
    sessions: int
    players: int
    median_session_seconds: float | None
    days: list[DayOut]
    hands_per_hour: list[HourOut]


def _event(event: Event, reader: str | None) -> EventOut:
    # A hand concerns several players: read for one of them, it is that player's event.
    user_id = reader if event.user_id is None and reader in event.user_ids else event.user_id
    return EventOut(
        event_id=event.event_id,
        type=event.type,
        user_id=user_id,
        user_ids=list(event.user_ids),
        at=event.at,
        stream=event.stream,
        entry_id=event.entry_id,
        data=event.data,
    )


class EventQuery(BaseModel):
    """GET /events: any other query parameter is refused (a typo would silently widen a read)."""

    model_config = ConfigDict(extra="forbid")

    user_id: str | None = Field(default=None, pattern=PLAYER_ID.pattern)
    event_type: EventType | None = Field(default=None, alias="type")
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)


class AggregatesQuery(BaseModel):
    """GET /events/aggregates."""

    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=7, ge=1, le=MAX_DAYS, description="UTC days up to today")


@router.get("/events")
async def list_events(claims: Caller, db: Pool, query: Annotated[EventQuery, Query()]) -> EventsOut:
    """Stored events, newest first; a user token reads only its own (user_id defaults to it)."""
    user_id = query.user_id
    if not claims.is_service:
        user_id = user_id or claims.subject
        require_acting_for(claims, user_id)
    async with db.acquire() as conn:
        found = await EventStore(conn).find(
            user_id=user_id, event_type=query.event_type, limit=query.limit
        )
    return EventsOut(events=[_event(event, user_id) for event in found])


@router.get("/events/aggregates")
async def event_aggregates(
    _: ServiceCaller, db: Pool, query: Annotated[AggregatesQuery, Query()]
) -> AggregatesOut:
    """Sessions and players per day, median session length, hands per hour (services only)."""
    since, until = window(query.days)
    async with db.acquire() as conn:
        figures: Aggregates = await aggregates(conn, since, until)
    return AggregatesOut(
        since=figures.since,
        until=figures.until,
        sessions=figures.sessions,
        players=figures.players,
        median_session_seconds=figures.median_session_seconds,
        days=[DayOut(**vars(day)) for day in figures.days],
        hands_per_hour=[HourOut(**vars(hour)) for hour in figures.hands_per_hour],
    )


def create_app(settings: EventSettings | None = None) -> FastAPI:
    """The event front, with the stream consumer running in its lifespan."""
    chosen = settings or EventSettings()
    config = ConsumerConfig(
        group=chosen.event_consumer_group,
        name=chosen.event_consumer_name,
        batch_size=chosen.event_batch_size,
        block_ms=chosen.event_block_ms,
        claim_idle_ms=int(chosen.event_claim_idle_seconds * 1000),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(chosen.resolved_database_url, max_size=5)
        redis = cast(aioredis.Redis, platform_redis(chosen))
        consumer = EventConsumer(redis, pool, config)
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        app.state.pool, app.state.consumer, app.state.consumer_task = pool, consumer, task
        try:
            yield
        finally:
            stop.set()
            # A blocked XREADGROUP returns within block_ms; an entry read then and not yet
            # acknowledged stays pending for the next start.
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, config.block_ms / 1000 + 5)
            await redis.aclose()
            await pool.close()

    app = http_front(
        "events",
        jwt_secret=chosen.jwt_secret,
        title="saga event service",
        description="Session and hand events, each stored once (DESIGN.md section 7).",
        lifespan=lifespan,
    )

    @app.get("/health", include_in_schema=False)
    async def health(request: Request, response: Response) -> dict[str, object]:
        consumer: EventConsumer = request.app.state.consumer
        running = not request.app.state.consumer_task.done()
        try:
            await request.app.state.pool.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            response.status_code = 503
            return {"status": "degraded", "database": "down", "consumer_running": running}
        if not running or consumer.last_error is not None:
            response.status_code = 503
            error = consumer.last_error
            return {"status": "degraded", "consumer_running": running, "last_error": error}
        handled = {outcome.value: n for outcome, n in consumer.handled.items()}
        return {"status": "ok", "service": "events", "consumer": config.name, "handled": handled}

    app.include_router(router)
    return app

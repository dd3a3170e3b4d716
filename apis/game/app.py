"""The game service's HTTP front (DESIGN 7): tables, seats, actions and chat mutes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from apis.auth import Caller, require_acting_for
from apis.fronts import http_front
from apis.game.players import router as players_router
from apis.game.tables import Tables, new_table_id
from apis.problems import PROBLEM_RESPONSES, problem
from domain.errors import DomainError, ErrorCode, Forbidden, NotFound, ValidationFailed
from domain.game import InvalidRules, TableRules
from domain.game.lobby import Mutes, TableDirectory
from domain.game.money import USER_ID
from domain.game.settings import GameSettings
from infra.db.pool import create_pool
from infra.redis import platform_redis
from infra.temporal_client import connect_temporal
from workflows.game.models import ActRequest, SitRequest, TableConfig

UserId = Annotated[str, Field(pattern=USER_ID.pattern)]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", max_length=200, pattern=r"^[\x21-\x7e]+$")
]


class TableCreate(BaseModel):
    """POST /tables."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    small_blind: StrictInt = Field(ge=1, le=1_000_000)
    big_blind: StrictInt = Field(ge=1, le=2_000_000)
    min_buy_in: StrictInt = Field(ge=1, le=1_000_000_000)
    max_buy_in: StrictInt = Field(ge=1, le=1_000_000_000)
    max_seats: StrictInt = Field(ge=2, le=10)
    action_timeout_seconds: StrictInt = Field(default=30, ge=1, le=600)
    rake_bps: StrictInt = Field(default=500, ge=0, le=1_000)
    rake_cap: StrictInt | None = Field(default=None, ge=0)


class SeatCreate(BaseModel):
    """POST /tables/{table_id}/seats."""

    model_config = ConfigDict(extra="forbid")

    user_id: UserId
    buy_in: StrictInt = Field(ge=1, le=1_000_000_000)
    seat: StrictInt | None = Field(default=None, ge=0, le=9)


class ActionCreate(BaseModel):
    """POST /tables/{table_id}/actions (the gateway's `table.action` also sends `params`)."""

    model_config = ConfigDict(extra="ignore")

    user_id: UserId
    action: str = Field(pattern=r"^(fold|check|call|bet|raise|all_in)$")
    amount: StrictInt | None = Field(default=None, ge=1, le=1_000_000_000)


class MuteCreate(BaseModel):
    """PUT /players/{user_id}/mute."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(pattern=r"^(lobby|table:t[0-9a-f]{10})$")
    minutes: StrictInt = Field(ge=1, le=7 * 24 * 60)


TableIdPath = Annotated[str, Path(max_length=64)]
UserIdPath = Annotated[str, Path(max_length=64)]


def _user(user_id: str) -> str:
    if not USER_ID.match(user_id):
        raise ValidationFailed("user_id must match [A-Za-z0-9_-]{1,40}")
    return user_id


def create_app(settings: GameSettings) -> Any:
    """The game front over Temporal (tables are workflows) and Redis (lobby, mutes)."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        redis = platform_redis(settings)
        connection = await connect_temporal(settings, lazy=True)
        app.state.tables = Tables(
            connection.client, TableDirectory(redis), settings.game_task_queue
        )
        app.state.mutes = Mutes(redis)
        app.state.redis = redis
        # Player profiles (apis/game/players.py); min_size=0 so tables serve with PostgreSQL down.
        app.state.pool = await create_pool(settings.resolved_database_url, min_size=0, max_size=4)
        try:
            yield
        finally:
            await app.state.pool.close()
            await redis.aclose()

    app = http_front(
        "game",
        jwt_secret=settings.jwt_secret,
        title="saga game service",
        description="Poker tables as durable Temporal workflows (DESIGN.md section 7).",
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
    )

    def tables(request: Request) -> Tables:
        found: Tables = request.app.state.tables
        return found

    @app.get("/health", include_in_schema=False)
    async def health(request: Request, response: Response) -> dict[str, object]:
        try:
            await request.app.state.redis.ping()
        except Exception:
            response.status_code = 503
            return {"status": "degraded", "redis": False}
        return {"status": "ok", "service": "game"}

    app.include_router(players_router)

    @app.post("/tables", status_code=201)
    async def open_table(body: TableCreate, request: Request, claims: Caller) -> dict[str, Any]:
        """Open a table; its creator moderates its chat."""
        cap = body.rake_cap if body.rake_cap is not None else body.big_blind * 3
        try:
            TableRules(
                small_blind=body.small_blind,
                big_blind=body.big_blind,
                min_buy_in=body.min_buy_in,
                max_buy_in=body.max_buy_in,
                max_seats=body.max_seats,
                action_timeout_seconds=body.action_timeout_seconds,
                rake_bps=body.rake_bps,
                rake_cap=cap,
            )
        except InvalidRules as exc:
            raise ValidationFailed(str(exc), field=exc.field) from None
        config = TableConfig(
            table_id=new_table_id(),
            name=body.name,
            small_blind=body.small_blind,
            big_blind=body.big_blind,
            min_buy_in=body.min_buy_in,
            max_buy_in=body.max_buy_in,
            max_seats=body.max_seats,
            action_timeout_seconds=body.action_timeout_seconds,
            rake_bps=body.rake_bps,
            rake_cap=cap,
            created_by=claims.subject,
        )
        return await tables(request).open(config)

    @app.get("/tables")
    async def lobby(request: Request, _: Caller) -> dict[str, Any]:
        """Every table with its blinds and how many are seated."""
        return {"tables": await tables(request).directory.all()}

    @app.get("/tables/{table_id}")
    async def show(table_id: TableIdPath, request: Request, claims: Caller) -> dict[str, Any]:
        """The table; a seated player also sees its own hole cards."""
        viewer = None if claims.is_service else claims.subject
        return await tables(request).view(table_id, viewer)

    @app.post("/tables/{table_id}/seats", status_code=201)
    async def sit(
        table_id: TableIdPath,
        body: SeatCreate,
        request: Request,
        claims: Caller,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        """Buy in and sit down; the same Idempotency-Key gives the same answer."""
        require_acting_for(claims, body.user_id)
        if not idempotency_key:
            raise DomainError(
                "header Idempotency-Key is required", code=ErrorCode.IDEMPOTENCY_KEY_REQUIRED
            )
        try:
            return await tables(request).sit(
                table_id, SitRequest(body.user_id, body.buy_in, body.seat, idempotency_key)
            )
        except DomainError as err:
            if err.code is ErrorCode.INSUFFICIENT_FUNDS:
                # DESIGN 7: a buy-in the wallet cannot pay is 402 at the game service.
                return problem(402, err.code, err.detail)
            raise

    @app.delete("/tables/{table_id}/seats/{user_id}", status_code=202)
    async def leave(
        table_id: TableIdPath, user_id: UserIdPath, request: Request, claims: Caller
    ) -> dict[str, Any]:
        """Leave: a live hand is folded at once, the stack goes home when it ends."""
        require_acting_for(claims, _user(user_id))
        return await tables(request).leave(table_id, user_id)

    @app.post("/tables/{table_id}/actions")
    async def act(
        table_id: TableIdPath, body: ActionCreate, request: Request, claims: Caller
    ) -> dict[str, Any]:
        """Fold, check, call, bet, raise or go all in; `amount` is the street total to reach."""
        require_acting_for(claims, body.user_id)
        return await tables(request).act(
            table_id, ActRequest(body.user_id, body.action, body.amount)
        )

    @app.get("/players/{user_id}/mute")
    async def mute_status(
        user_id: UserIdPath,
        request: Request,
        _: Caller,
        channel: Annotated[str, Query(max_length=80)],
    ) -> dict[str, Any]:
        """200 with `until` while muted on `channel`, else 404 (what the gateway asks)."""
        mute = await request.app.state.mutes.get(_user(user_id), channel)
        if mute is None:
            raise NotFound(f"{user_id} is not muted on {channel[:80]}")
        return {
            "user_id": user_id,
            "channel": channel,
            "muted": True,
            "until": mute.until.isoformat(),
            "by": mute.by,
        }

    async def _may_moderate(request: Request, claims: Any, channel: str) -> None:
        if claims.is_service:
            return
        if channel.startswith("table:"):
            summary = await tables(request).directory.get(channel.removeprefix("table:"))
            if summary is not None and summary.get("moderator") == claims.subject:
                return
        raise Forbidden("only a service or the table's moderator may mute on this channel")

    @app.put("/players/{user_id}/mute")
    async def mute(
        user_id: UserIdPath, body: MuteCreate, request: Request, claims: Caller
    ) -> dict[str, Any]:
        """Mute a player on a chat channel for `minutes`."""
        await _may_moderate(request, claims, body.channel)
        found = await request.app.state.mutes.mute(
            _user(user_id), body.channel, body.minutes, claims.subject
        )
        return {
            "user_id": user_id,
            "channel": body.channel,
            "muted": True,
            "until": found.until.isoformat(),
            "by": found.by,
        }

    @app.delete("/players/{user_id}/mute", status_code=204)
    async def unmute(
        user_id: UserIdPath,
        request: Request,
        claims: Caller,
        channel: Annotated[str, Query(pattern=r"^(lobby|table:t[0-9a-f]{10})$")],
    ) -> Response:
        """Lift a mute."""
        await _may_moderate(request, claims, channel)
        if not await request.app.state.mutes.unmute(_user(user_id), channel):
            raise NotFound(f"{user_id} is not muted on {channel}")
        return Response(status_code=204)

    return app

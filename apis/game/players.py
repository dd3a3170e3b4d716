"""Player profiles on the game service (DESIGN 5, 7): anyone signed in reads, the player edits."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from apis.auth import Caller, require_acting_for
from apis.problems import PROBLEM_RESPONSES
from domain.players.profiles import (
    DISPLAY_NAME,
    DISPLAY_NAME_MAX,
    PLAYER_ID,
    Player,
    PlayerRepository,
)

router = APIRouter(prefix="/players", responses=PROBLEM_RESPONSES, tags=["players"])
UserIdPath = Annotated[str, Path(pattern=PLAYER_ID.pattern)]


async def _pool(request: Request) -> asyncpg.Pool:
    found: asyncpg.Pool = request.app.state.pool
    return found


Pool = Annotated[asyncpg.Pool, Depends(_pool)]


async def acting_for_path_user(user_id: UserIdPath, claims: Caller) -> None:
    """Only that player or a service passes (403 before the body is even read)."""
    require_acting_for(claims, user_id)


class StatsOut(BaseModel):
    """What the player's hands added up to."""

    hands_played: int
    hands_won: int
    net_chips: int


class PlayerOut(BaseModel):
    """A profile; a player never seen reads as its id with no hands."""

    user_id: str
    display_name: str
    stats: StatsOut


class PlayerUpdate(BaseModel):
    """PUT /players/{user_id}."""

    model_config = ConfigDict(extra="forbid")

    # Surrounding blanks are dropped; a name of blanks only is refused by the domain.
    display_name: str = Field(min_length=1, max_length=DISPLAY_NAME_MAX, pattern=DISPLAY_NAME)


def _player(player: Player) -> PlayerOut:
    stats = player.stats
    return PlayerOut(
        user_id=player.user_id,
        display_name=player.display_name,
        stats=StatsOut(
            hands_played=stats.hands_played,
            hands_won=stats.hands_won,
            net_chips=stats.net_chips,
        ),
    )


@router.get("/{user_id}")
async def get_player(user_id: UserIdPath, _: Caller, db: Pool) -> PlayerOut:
    """A player's display name and stats (anyone signed in)."""
    async with db.acquire() as conn:
        return _player(await PlayerRepository(conn).get(user_id))


@router.put("/{user_id}", dependencies=[Depends(acting_for_path_user)])
async def rename_player(user_id: UserIdPath, body: PlayerUpdate, db: Pool) -> PlayerOut:
    """Set the display name (that player or a service); the same name again is a no-op."""
    async with db.acquire() as conn, conn.transaction():
        return _player(await PlayerRepository(conn).rename(user_id, body.display_name))

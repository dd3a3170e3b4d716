"""Player profiles and stats: a display name the player sets, counts the hands keep up to date."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.errors import ValidationFailed
from infra.db.connection import Connection

# The gateway's user ids (domain/gateway/channels.py): whoever holds a token may have a profile.
PLAYER_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")
DISPLAY_NAME_MAX = 40
# No control characters (C0, DEL, C1): they forge log lines, and PostgreSQL refuses NUL.
DISPLAY_NAME = r"^[^\x00-\x1f\x7f-\x9f]+$"
_DISPLAY_NAME = re.compile(DISPLAY_NAME)


@dataclass(frozen=True)
class PlayerStats:
    """What the player's hands added up to."""

    hands_played: int = 0
    hands_won: int = 0
    net_chips: int = 0


@dataclass(frozen=True)
class Player:
    """A profile as everyone signed in sees it."""

    user_id: str
    display_name: str
    stats: PlayerStats = field(default_factory=PlayerStats)


@dataclass(frozen=True)
class HandResult:
    """The part of a HAND_ENDED event that moves players' stats."""

    net: Mapping[str, int]
    winners: frozenset[str]

    @property
    def players(self) -> list[str]:
        """Everyone dealt into the hand, sorted: every hand locks stats rows in the same order."""
        return sorted(self.net)


def check_player_id(user_id: str) -> str:
    """`user_id` if it is a valid player id, else VALIDATION_FAILED."""
    if not PLAYER_ID.fullmatch(user_id):
        raise ValidationFailed("user_id must match [A-Za-z0-9_.@-]{1,128}", field="user_id")
    return user_id


def check_display_name(display_name: str) -> str:
    """The name without surrounding blanks, if it is 1-40 printable characters."""
    name = display_name.strip()
    if not _DISPLAY_NAME.fullmatch(name) or len(name) > DISPLAY_NAME_MAX:
        raise ValidationFailed(
            f"display_name must be 1-{DISPLAY_NAME_MAX} printable characters",
            field="display_name",
        )
    return name


class PlayerRepository:
    """Profiles and stats through one connection; writes run inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def get(self, user_id: str) -> Player:
        """The player; one never seen reads as its id for a name and no hands."""
        row = await self._conn.fetchrow(
            "SELECT p.display_name, s.hands_played, s.hands_won, s.net_chips "
            "FROM (SELECT $1::text AS user_id) AS wanted "
            "LEFT JOIN players p USING (user_id) LEFT JOIN player_stats s USING (user_id)",
            check_player_id(user_id),
        )
        assert row is not None  # the SELECT of a literal always yields one row
        stats = PlayerStats(row["hands_played"] or 0, row["hands_won"] or 0, row["net_chips"] or 0)
        return Player(user_id, row["display_name"] or user_id, stats)

    async def rename(self, user_id: str, display_name: str) -> Player:
        """Set the display name (the same name again changes nothing); the profile after."""
        await self._conn.execute(
            "INSERT INTO players (user_id, display_name) VALUES ($1, $2) "
            "ON CONFLICT (user_id) DO UPDATE SET display_name = EXCLUDED.display_name, "
            "updated_at = now() WHERE players.display_name IS DISTINCT FROM EXCLUDED.display_name",
            check_player_id(user_id),
            check_display_name(display_name),
        )
        return await self.get(user_id)

    async def apply_hand(self, result: HandResult) -> None:
        """Count one hand for each of its players: played, won, and the chips it moved."""
        players = result.players
        await self._conn.execute(
            "INSERT INTO player_stats AS s (user_id, hands_played, hands_won, net_chips) "
            "SELECT u, 1, w::int, n "
            "FROM unnest($1::text[], $2::bool[], $3::bigint[]) AS t(u, w, n) "
            "ON CONFLICT (user_id) DO UPDATE SET hands_played = s.hands_played + 1, "
            "hands_won = s.hands_won + EXCLUDED.hands_won, "
            "net_chips = s.net_chips + EXCLUDED.net_chips, updated_at = now()",
            players,
            [p in result.winners for p in players],
            [result.net[p] for p in players],
        )

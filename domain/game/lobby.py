"""The lobby's directory of tables and the chat mutes the gateway asks about, in Redis."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.redis import RedisClient

_TABLES = "game:tables"

# A summary is replaced only by a newer one (its `version` is the table's event count), so a
# retried, late write of an older state cannot undo a newer one.
_PUT_NEWER = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local ok, decoded = pcall(cjson.decode, old)
  if ok and tonumber(decoded['version'] or 0) > tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


class TableDirectory:
    """One JSON summary per table (what `GET /tables` lists), newest write wins."""

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis
        self._put = redis.register_script(_PUT_NEWER)

    async def put(self, summary: dict[str, Any]) -> bool:
        """Store `summary` unless a newer one is there; True if stored."""
        version = int(summary.get("version", 0))
        text = json.dumps(summary, separators=(",", ":"))
        stored = await self._put(keys=[_TABLES], args=[summary["table_id"], text, version])
        return bool(stored)

    async def get(self, table_id: str) -> dict[str, Any] | None:
        """One table's summary, or None."""
        raw = await self._redis.hget(_TABLES, table_id)
        return json.loads(raw) if raw else None

    async def all(self) -> list[dict[str, Any]]:
        """Every table, by name."""
        raw = await self._redis.hgetall(_TABLES)
        tables = [json.loads(v) for v in raw.values()]
        return sorted(tables, key=lambda t: (str(t.get("name", "")), str(t["table_id"])))


@dataclass(frozen=True)
class Mute:
    """A player muted on one chat channel until `until`, by `by`."""

    user_id: str
    channel: str
    until: datetime
    by: str


class Mutes:
    """Chat mutes by channel, expiring by themselves (a Redis key with a TTL)."""

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    @staticmethod
    def _key(user_id: str, channel: str) -> str:
        return f"game:mutes:{channel}:{user_id}"

    async def mute(self, user_id: str, channel: str, minutes: int, by: str) -> Mute:
        """Mute for `minutes` from now (replacing an earlier mute)."""
        until = datetime.now(UTC) + timedelta(minutes=minutes)
        body = json.dumps({"until": until.isoformat(), "by": by})
        await self._redis.set(self._key(user_id, channel), body, ex=minutes * 60)
        return Mute(user_id, channel, until, by)

    async def unmute(self, user_id: str, channel: str) -> bool:
        """Lift a mute; False if there was none."""
        return bool(await self._redis.delete(self._key(user_id, channel)))

    async def get(self, user_id: str, channel: str) -> Mute | None:
        """The mute in force, or None."""
        raw = await self._redis.get(self._key(user_id, channel))
        if not raw:
            return None
        data = json.loads(raw)
        return Mute(user_id, channel, datetime.fromisoformat(data["until"]), str(data["by"]))

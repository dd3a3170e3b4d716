"""Table events with ids: a Redis Stream per table, so a client can catch up after a gap.

Whoever publishes table events (the game service, or the gateway's POST /events) goes
through `TableEventLog.publish`: the event is appended to `tables:{id}:events` and published
on `table:{id}` with its stream id as `event_id`, in one step, so both orders agree.

On a cluster the two keys of a table carry the table's channel as hash tag,
`tables:{table:{id}}:events` and `...:events:seq`, so they and the shard channel `table:{id}`
hash to one slot and the script may SPUBLISH there.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from domain.errors import ValidationFailed
from domain.gateway.channels import table_channel, valid_id
from domain.gateway.redis_values import as_text, stream_entries
from infra.redis import RedisClient, is_cluster

_EVENT_ID = re.compile(r"^\d{1,20}-\d{1,20}$")

_PUBLISH = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'data', ARGV[2])
local body = string.sub(ARGV[2], 2)
local sep = ','
if body == '}' then sep = '' end
redis.call(PUBLISH_COMMAND, ARGV[3], '{"event_id":"' .. id .. '"' .. sep .. body)
return id
"""


# Events of one writer numbered 1, 2, 3...: each is appended and published only if its number
# is above the last one recorded, so a writer that retries (a Temporal activity) never shows
# an event twice. KEYS: the stream and its counter; ARGV: max length, channel, then pairs of
# (number, JSON).
_PUBLISH_ONCE = """
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local ids = {}
for i = 3, #ARGV, 2 do
  local seq = tonumber(ARGV[i])
  if seq > last then
    local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'data', ARGV[i + 1])
    local body = string.sub(ARGV[i + 1], 2)
    local sep = ','
    if body == '}' then sep = '' end
    redis.call(PUBLISH_COMMAND, ARGV[2], '{"event_id":"' .. id .. '"' .. sep .. body)
    last = seq
    ids[#ids + 1] = id
  else
    ids[#ids + 1] = ''
  end
end
redis.call('SET', KEYS[2], last)
return ids
"""


def table_events_key(table_id: str, *, cluster: bool = False) -> str:
    """The Redis Stream of a table's events; on a cluster tagged with the table's channel."""
    if cluster:
        return f"tables:{{{table_channel(table_id)}}}:events"
    return f"tables:{table_id}:events"


def _parse_id(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq)


@dataclass(frozen=True)
class Resync:
    """Missed events in order, or word that only a full state reload can help."""

    events: list[dict[str, Any]]
    full_resync_required: bool
    reason: str = ""


class TableEventLog:
    """Per-table event streams of bounded length."""

    def __init__(self, redis: RedisClient, max_length: int) -> None:
        self._redis = redis
        self._max_length = max_length
        self._cluster = is_cluster(redis)
        command = "'SPUBLISH'" if self._cluster else "'PUBLISH'"
        self._publish = redis.register_script(_PUBLISH.replace("PUBLISH_COMMAND", command))
        self._publish_once = redis.register_script(
            _PUBLISH_ONCE.replace("PUBLISH_COMMAND", command)
        )

    def _key(self, table_id: str) -> str:
        return table_events_key(table_id, cluster=self._cluster)

    def _seq_key(self, table_id: str) -> str:
        return f"{self._key(table_id)}:seq"

    async def publish(self, table_id: str, payload: dict[str, Any]) -> str:
        """Append and publish one event; returns its event id."""
        if not valid_id(table_id):
            raise ValidationFailed("invalid table id")
        text = json.dumps({k: v for k, v in payload.items() if k != "event_id"})
        event_id = await self._publish(
            keys=[self._key(table_id)],
            args=[self._max_length, text, table_channel(table_id)],
        )
        return as_text(event_id)

    async def publish_numbered(
        self, table_id: str, events: list[tuple[int, dict[str, Any]]]
    ) -> list[str | None]:
        """Append and publish events numbered by their writer, each once; skipped ones: None."""
        if not valid_id(table_id):
            raise ValidationFailed("invalid table id")
        if not events:
            return []
        args: list[Any] = [self._max_length, table_channel(table_id)]
        for seq, payload in events:
            args += [seq, json.dumps({k: v for k, v in payload.items() if k != "event_id"})]
        ids = await self._publish_once(
            keys=[self._key(table_id), self._seq_key(table_id)], args=args
        )
        return [as_text(i) or None for i in ids]

    async def latest(self, table_id: str) -> str | None:
        """Id of the newest event of a table, to resync from later."""
        entries = stream_entries(await self._redis.xrevrange(self._key(table_id), "+", "-", 1))
        return entries[0][0] if entries else None

    async def since(self, table_id: str, last_event_id: str | None, limit: int = 200) -> Resync:
        """Events after `last_event_id`, unless some of them were already trimmed away."""
        if not valid_id(table_id):
            raise ValidationFailed("invalid table id")
        if last_event_id is None:
            return Resync([], True, "no last_event_id: load the full table state")
        if not _EVENT_ID.match(last_event_id):
            raise ValidationFailed("last_event_id must look like '1700000000000-0'")
        key = self._key(table_id)
        oldest = stream_entries(await self._redis.xrange(key, "-", "+", 1))
        if not oldest:
            return Resync([], False, "no events recorded for this table")
        # Trimming removes from the head only: if the client's last event is older than the
        # oldest one kept, what came between may be gone.
        if _parse_id(last_event_id) < _parse_id(oldest[0][0]):
            return Resync([], True, "missed events were trimmed from the table's stream")
        reply = await self._redis.xrange(key, f"({last_event_id}", "+", limit + 1)
        entries = stream_entries(reply)
        if len(entries) > limit:
            return Resync([], True, f"more than {limit} events were missed")
        events = [
            {"event_id": entry_id, **json.loads(fields["data"])} for entry_id, fields in entries
        ]
        return Resync(events, False)

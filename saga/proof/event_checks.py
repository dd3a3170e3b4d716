"""Every session and hand event emitted during the proof is stored exactly once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg

from domain.events.model import HAND_STREAM, event_id_for
from domain.events.store import count_by_event_id
from domain.gateway.sessions import SESSION_STREAM
from infra.redis import RedisClient
from saga.proof.checks import Check, check


async def emitted_event_ids(redis: RedisClient) -> list[str]:
    """The ids of every event in the session and hand streams (a hand appended twice once)."""
    ids: list[str] = []
    sessions: Any = await redis.xrange(SESSION_STREAM, "-", "+")
    ids += [event_id_for(SESSION_STREAM, _text(entry_id)) for entry_id, _ in sessions]
    hands: Any = await redis.xrange(HAND_STREAM, "-", "+")
    for _, fields in hands:
        ids.append(str(json.loads(fields[b"data"])["event_id"]))
    return list(dict.fromkeys(ids))


async def stored_counts(
    redis: RedisClient, database_url: str, timeout: float = 90
) -> dict[str, int]:
    """How often each emitted event is stored, once the consumer caught up (or `timeout`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    conn = await asyncpg.connect(database_url)
    try:
        while True:
            counts = await count_by_event_id(conn, await emitted_event_ids(redis))
            if all(n == 1 for n in counts.values()) or loop.time() > deadline:
                return counts
            await asyncio.sleep(1.0)
    finally:
        await conn.close()


def check_events(counts: dict[str, int]) -> list[Check]:
    """None lost, none twice."""
    return [
        check(
            "every session and hand event emitted is stored exactly once",
            len(counts),
            [f"{event_id} stored {n} times" for event_id, n in counts.items() if n != 1],
        )
    ]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

"""SESSION_STARTED and SESSION_ENDED events, appended to a Redis stream for the event service."""

from __future__ import annotations

import time
from typing import Any

from domain.gateway.redis_values import as_text
from infra.redis import RedisClient

SESSION_STREAM = "events:sessions"
_MAX_LENGTH = 100_000


class SessionEvents:
    """Appends one entry per session start and end to `events:sessions`."""

    def __init__(self, redis: RedisClient, instance_id: str) -> None:
        self._redis = redis
        self._instance_id = instance_id

    async def started(self, connection_id: str, user_id: str, client_type: str) -> str:
        """Record SESSION_STARTED; returns the stream entry id."""
        return await self._append(
            {
                "type": "SESSION_STARTED",
                "connection_id": connection_id,
                "user_id": user_id,
                "client_type": client_type,
            }
        )

    async def ended(
        self,
        connection_id: str,
        user_id: str,
        client_type: str,
        started_at: float,
        close_code: int,
    ) -> str:
        """Record SESSION_ENDED with the session's duration in milliseconds."""
        return await self._append(
            {
                "type": "SESSION_ENDED",
                "connection_id": connection_id,
                "user_id": user_id,
                "client_type": client_type,
                "duration_ms": str(int((time.time() - started_at) * 1000)),
                "close_code": str(close_code),
            }
        )

    async def _append(self, fields: dict[str, str]) -> str:
        entry: dict[Any, Any] = {
            **fields,
            "instance_id": self._instance_id,
            "at": repr(time.time()),
        }
        return as_text(
            await self._redis.xadd(SESSION_STREAM, entry, maxlen=_MAX_LENGTH, approximate=True)
        )

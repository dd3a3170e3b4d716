"""Sliding-window rate limits: in Redis where every gateway instance shares them (per address,
per user), in the process where one instance owns what is counted (the frames of a socket)."""

from __future__ import annotations

import time
import uuid
from array import array
from collections.abc import Callable
from dataclasses import dataclass

from infra.redis import RedisClient

# One sorted set per key: a member per accepted hit, scored by its time in milliseconds.
# Trim what left the window, count, and add only when under the limit, all in one step.
# Time comes from the server so instances with skewed clocks still agree.
_HIT = """
local key = KEYS[1]
local window_ms = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local member = ARGV[3]
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now_ms - window_ms)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now_ms, member)
  redis.call('PEXPIRE', key, window_ms)
  return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local retry_ms = window_ms
if oldest[2] then
  retry_ms = tonumber(oldest[2]) + window_ms - now_ms
end
return {0, 0, retry_ms}
"""

_COUNT = """
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - tonumber(ARGV[1]))
return redis.call('ZCARD', KEYS[1])
"""


@dataclass(frozen=True)
class RateDecision:
    """The outcome of one hit."""

    allowed: bool
    remaining: int
    retry_after_seconds: float


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` hits in any `window_seconds`."""

    limit: int
    window_seconds: float

    @property
    def window_ms(self) -> int:
        """The window in milliseconds."""
        return max(1, int(self.window_seconds * 1000))


class SlidingWindowLimiter:
    """Counts hits per key in a sliding window; a refused hit is not counted."""

    def __init__(self, redis: RedisClient, prefix: str = "rl") -> None:
        self._redis = redis
        self._prefix = prefix
        self._hit = redis.register_script(_HIT)
        self._count = redis.register_script(_COUNT)

    def _key(self, key: str) -> str:
        return f"{self._prefix}:{key}"

    async def hit(self, key: str, rule: RateLimit) -> RateDecision:
        """Record one hit if the window has room; otherwise say when to retry."""
        allowed, remaining, retry_ms = await self._hit(
            keys=[self._key(key)], args=[rule.window_ms, rule.limit, uuid.uuid4().hex]
        )
        return RateDecision(bool(allowed), int(remaining), max(0, int(retry_ms)) / 1000)

    async def count(self, key: str, rule: RateLimit) -> int:
        """Hits inside the current window."""
        return int(await self._count(keys=[self._key(key)], args=[rule.window_ms]))

    async def reset(self, key: str) -> None:
        """Forget every hit of `key`."""
        await self._redis.delete(self._key(key))


class LocalWindow:
    """One socket's sliding window, kept beside the socket: a refused hit is not counted.

    A connection lives in one gateway process, so its frames need no shared store: counting
    them in Redis cost every frame a write (fsynced before the reply, `appendfsync always`)
    on the way to the game service. Keeps the times of the last `limit` accepted hits in a ring
    of floats (8 bytes a hit); a hit is accepted when the oldest of them left the window.
    """

    __slots__ = ("_clock", "_next", "_times", "_window")

    def __init__(self, rule: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = rule.window_ms / 1000
        self._times = array("d", [float("-inf")] * max(1, rule.limit))
        self._next = 0
        self._clock = clock

    def allow(self) -> bool:
        """Record one hit if the window has room; False (and nothing recorded) if not."""
        now = self._clock()
        if now - self._times[self._next] < self._window:
            return False
        self._times[self._next] = now
        self._next = (self._next + 1) % len(self._times)
        return True

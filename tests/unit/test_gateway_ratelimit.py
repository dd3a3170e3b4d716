"""Sliding-window rate limits: shared ones on a real Valkey, a socket's own in the process."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from domain.gateway.ratelimit import LocalWindow, RateLimit, SlidingWindowLimiter


async def test_hits_up_to_the_limit_pass_and_the_rest_wait(redis: aioredis.Redis) -> None:
    limiter = SlidingWindowLimiter(redis)
    rule = RateLimit(limit=3, window_seconds=10)
    decisions = [await limiter.hit("user:a", rule) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    assert 9 < decisions[-1].retry_after_seconds <= 10
    assert await limiter.count("user:a", rule) == 3  # refused hits are not counted
    assert (await limiter.hit("user:b", rule)).allowed  # keys are independent


async def test_the_window_slides(redis: aioredis.Redis) -> None:
    limiter = SlidingWindowLimiter(redis)
    rule = RateLimit(limit=2, window_seconds=0.4)
    assert (await limiter.hit("k", rule)).allowed
    await asyncio.sleep(0.25)
    assert (await limiter.hit("k", rule)).allowed
    assert not (await limiter.hit("k", rule)).allowed
    await asyncio.sleep(0.2)  # the first hit left the window, the second has not
    assert (await limiter.hit("k", rule)).allowed
    assert not (await limiter.hit("k", rule)).allowed


async def test_reset_forgets_every_hit(redis: aioredis.Redis) -> None:
    limiter = SlidingWindowLimiter(redis)
    rule = RateLimit(limit=1, window_seconds=60)
    assert (await limiter.hit("k", rule)).allowed
    assert not (await limiter.hit("k", rule)).allowed
    await limiter.reset("k")
    assert await limiter.count("k", rule) == 0
    assert (await limiter.hit("k", rule)).allowed
    assert 0 < await redis.pttl("rl:k") <= 60_000


async def test_concurrent_hits_never_exceed_the_limit(redis: aioredis.Redis) -> None:
    limiter = SlidingWindowLimiter(redis)
    rule = RateLimit(limit=10, window_seconds=60)
    decisions = await asyncio.gather(*(limiter.hit("burst", rule) for _ in range(50)))
    assert sum(d.allowed for d in decisions) == 10


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_sockets_window_passes_up_to_the_limit_and_refuses_the_rest_uncounted() -> None:
    clock = _Clock()
    window = LocalWindow(RateLimit(limit=3, window_seconds=10), clock)
    allowed = []
    for _ in range(5):
        allowed.append(window.allow())
        clock.now += 1
    assert allowed == [True, True, True, False, False]
    clock.now += 4.5  # t=9.5: the first hit (t=0) is still inside the window
    assert not window.allow()
    clock.now += 0.5  # t=10: refused hits did not move the window, the first one left it
    assert window.allow()
    assert not window.allow()  # the others (t=1, t=2) have not


def test_a_sockets_window_slides_hit_by_hit() -> None:
    clock = _Clock()
    window = LocalWindow(RateLimit(limit=2, window_seconds=0.4), clock)
    assert window.allow()
    clock.now += 0.25
    assert window.allow()
    assert not window.allow()
    clock.now += 0.2  # the first hit left the window, the second has not
    assert window.allow()
    assert not window.allow()
    clock.now += 0.5  # both left
    assert [window.allow() for _ in range(3)] == [True, True, False]

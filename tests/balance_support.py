"""Helpers shared by the balance tests: a controllable clock and a book over the test Redis."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

import pytest
import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import RedisCluster

from domain.balance.book import BalanceBook

START_MS = 1_700_000_000_000


@dataclass
class FakeClock:
    """The scripts' clock, moved by the test."""

    now_ms: int = START_MS

    def __call__(self) -> int | None:
        return self.now_ms

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now_ms += int(seconds * 1000)


@dataclass
class Keys:
    """Fresh idempotency keys."""

    prefix: str = "k"
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def __call__(self) -> str:
        return f"{self.prefix}-{next(self._counter)}"


STORES = ("one Valkey", "3-master cluster")


@pytest.fixture(name="redis", params=STORES)
def both_stores(request: pytest.FixtureRequest, redis: aioredis.Redis) -> aioredis.Redis:
    """The test's Redis, once one Valkey and once the session's 3-master Valkey Cluster.

    A balance test module imports this to run every test on both: the scripts touch one hash
    slot each, so the cluster must answer exactly as one Valkey does.
    """
    if request.param == STORES[0]:
        return redis
    cluster: aioredis.Redis = request.getfixturevalue("cluster_redis")
    return cluster


def make_book(redis: aioredis.Redis, clock: FakeClock | None = None) -> BalanceBook:
    """A book over the test's Redis, on `clock` if given, else on Redis TIME."""
    if clock is None:
        return BalanceBook.build(redis)
    return BalanceBook.build(redis, clock=clock)


SECRET = "balance-tests-secret-that-is-long-enough-for-hs256"


def service_token() -> str:
    """A token of an internal caller, which may act on any account."""
    from infra.tokens import TokenKind, issue_token

    return issue_token(SECRET, "poker", kind=TokenKind.SERVICE)


def user_token(user_id: str) -> str:
    """A player's token, which may act only on the player's own account."""
    from infra.tokens import issue_token

    return issue_token(SECRET, user_id)


async def subscribed(redis: aioredis.Redis, *channels: str) -> PubSub:
    """A subscription to `channels`, confirmed. On a cluster, a script's PUBLISH reaches every
    node (the cluster bus copies it), so any node hears it; the client learns the nodes first."""
    if isinstance(redis, RedisCluster):
        await redis.initialize()
    pubsub = redis.pubsub()
    await pubsub.subscribe(*channels)
    for _ in channels:
        await pubsub.get_message(timeout=1)
    if isinstance(redis, RedisCluster):
        # The bus forwards other masters' messages a moment late: let those published before
        # the subscription arrive, and drop them.
        while await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.3):
            pass
    return pubsub


async def next_event(pubsub: PubSub) -> dict[str, object] | None:
    """The next event on a subscribed channel, decoded; None if none comes within 2 s."""
    for _ in range(10):
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message:
            event: dict[str, object] = json.loads(message["data"])
            return event
    return None

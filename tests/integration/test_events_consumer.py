"""The event consumer stores each stream entry once, through a real crash and malformed input."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis

from domain.events.consumer import ConsumerConfig, EventConsumer, Outcome
from domain.events.model import HAND_STREAM, event_id_for
from domain.events.store import EventStore, count_by_event_id
from domain.gateway.sessions import SESSION_STREAM
from domain.players.profiles import PlayerRepository, PlayerStats
from infra.faults import FAULT_ONCE_FILE, FAULT_POINT
from tests.conftest import SessionStack
from tests.eventually import assert_eventually
from tests.integration.events_support import (
    append_hand,
    entry_text,
    hand,
    session,
    start_event_front,
)

GROUP = "events"


async def _pending(redis: aioredis.Redis) -> int:
    total = 0
    for stream in (SESSION_STREAM, HAND_STREAM):
        summary = await redis.xpending(stream, GROUP)
        total += int(summary["pending"])
    return total


async def _stats(db: asyncpg.Pool, user_id: str) -> PlayerStats:
    async with db.acquire() as conn:
        return (await PlayerRepository(conn).get(user_id)).stats


@pytest.mark.parametrize(
    ("fault", "restarted_as"),
    [
        # Killed after the first commit, before its XACK; the same consumer comes back and
        # re-reads its own pending entries.
        ("after_commit:events", "events-a"),
        # Killed right after XREADGROUP delivered the batch; a consumer of another name
        # claims the idle entries with XAUTOCLAIM.
        ("after_read:events", "events-b"),
    ],
)
async def test_a_consumer_killed_between_read_and_ack_stores_each_event_once(
    fault: str,
    restarted_as: str,
    stack: SessionStack,
    db: asyncpg.Pool,
    redis: aioredis.Redis,
    tmp_path: Path,
) -> None:
    started = await session(redis, "SESSION_STARTED", "alice")
    ended = await session(redis, "SESSION_ENDED", "alice", duration_ms=90_000)
    other = await session(redis, "SESSION_STARTED", "bob")
    result = hand("t0123456789-h1", {"alice": 50, "bob": -50}, ["alice"])
    await append_hand(redis, result)
    # An activity retry appends the same hand again: still one event, stats moved once.
    await append_hand(redis, result)
    log = tmp_path / "events.log"

    armed = {FAULT_POINT: fault, FAULT_ONCE_FILE: str(tmp_path / "fired")}
    crashing = start_event_front(stack, log, EVENT_CONSUMER_NAME="events-a", **armed)
    assert await asyncio.to_thread(crashing.wait) == -signal.SIGKILL, log.read_text()
    stored_before = await db.fetchval("SELECT count(*) FROM events")
    assert stored_before == (1 if fault == "after_commit:events" else 0)
    # Every entry was delivered and none acknowledged: the crash came between read and ack.
    assert await _pending(redis) == 5

    restarted = start_event_front(
        stack, log, EVENT_CONSUMER_NAME=restarted_as, EVENT_CLAIM_IDLE_SECONDS="0.2"
    )
    try:
        await restarted.healthy()

        async def all_stored() -> None:
            assert await db.fetchval("SELECT count(*) FROM events") == 4
            assert await _pending(redis) == 0

        await assert_eventually(all_stored, timeout=20)
        health = await restarted.healthy()
    finally:
        restarted.stop()
    session_ids = [event_id_for(SESSION_STREAM, e) for e in (started, ended, other)]
    async with db.acquire() as conn:
        counts = await count_by_event_id(conn, [*session_ids, "t0123456789-h1", "missing"])
    assert counts == {**dict.fromkeys([*session_ids, "t0123456789-h1"], 1), "missing": 0}
    assert await _stats(db, "alice") == PlayerStats(hands_played=1, hands_won=1, net_chips=50)
    assert await _stats(db, "bob") == PlayerStats(hands_played=1, hands_won=0, net_chips=-50)
    # The replayed entry (after_commit) and the doubled hand were seen, and skipped.
    duplicates = 2 if fault == "after_commit:events" else 1
    assert health["handled"].get("duplicate") == duplicates, health
    assert await db.fetchval("SELECT count(*) FROM events_parked") == 0


@pytest.fixture
async def consumer(db: asyncpg.Pool, redis: aioredis.Redis) -> AsyncIterator[EventConsumer]:
    """A consumer running on the test's loop."""
    running = EventConsumer(redis, db, ConsumerConfig(GROUP, "in-process", block_ms=100))
    stop = asyncio.Event()
    task = asyncio.create_task(running.run(stop))
    try:
        yield running
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_a_malformed_entry_is_parked_with_its_reason_and_the_next_are_stored(
    consumer: EventConsumer, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    good_before = await session(redis, "SESSION_STARTED", "alice")
    no_user = entry_text(
        await redis.xadd(SESSION_STREAM, {"type": "SESSION_STARTED", "at": "1700000000"})
    )
    binary = entry_text(await redis.xadd(SESSION_STREAM, {"type": b"\xff\xfe", "user_id": "alice"}))
    not_json = await append_hand(redis, "{not json")
    stranger = await append_hand(
        redis, hand("t0123456789-h2", {"alice": 10, "bob": -10}, ["carol"])
    )
    good_after = await session(redis, "SESSION_ENDED", "alice", duration_ms=30_000)
    good_hand = await append_hand(redis, hand("t0123456789-h3", {"alice": -7, "bob": 7}, ["bob"]))

    async def handled() -> None:
        assert consumer.handled.get(Outcome.PARKED) == 4, consumer.handled
        assert consumer.handled.get(Outcome.STORED) == 3, consumer.handled
        assert await _pending(redis) == 0

    await assert_eventually(handled, timeout=15)
    async with db.acquire() as conn:
        parked = {(e.stream, e.entry_id): e for e in await EventStore(conn).parked()}
        stored = {event.event_id for event in await EventStore(conn).find()}
    sessions = {e: parked[SESSION_STREAM, e].reason for e in (no_user, binary)}
    assert "user_id" in sessions[no_user]
    assert "UTF-8" in sessions[binary]
    assert "JSON" in parked[HAND_STREAM, not_json].reason
    assert "winners" in parked[HAND_STREAM, stranger].reason
    assert parked[HAND_STREAM, not_json].fields == {"data": "{not json"}
    assert stored == {
        event_id_for(SESSION_STREAM, good_before),
        event_id_for(SESSION_STREAM, good_after),
        "t0123456789-h3",
    }
    assert (HAND_STREAM, good_hand) not in parked
    # The refused hand moved no stats; the good one did.
    assert await _stats(db, "bob") == PlayerStats(hands_played=1, hands_won=1, net_chips=7)
    assert consumer.last_error is None

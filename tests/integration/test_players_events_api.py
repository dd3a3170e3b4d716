"""Ownership of profiles and events, their shapes, and the same through the gateway's proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from apis.events import create_app as events_app
from apis.game.app import create_app as game_app
from domain.events.settings import EventSettings
from domain.game.settings import GameSettings
from tests.conftest import SessionStack
from tests.eventually import assert_eventually
from tests.integration.checkout_fronts import service_auth, serving, user_auth
from tests.integration.events_support import append_hand, hand, session
from tests.integration.gateway_support import gateway_settings, running_gateway, ws_client
from tests.security.served import served


def _game(stack: SessionStack) -> Any:
    return game_app(
        GameSettings(
            redis_url=stack.redis_url,
            temporal_address=stack.temporal_address,
            database_url=stack.database_url,
        )
    )


def _events(stack: SessionStack) -> Any:
    return events_app(
        EventSettings(
            redis_url=stack.redis_url,
            database_url=stack.database_url,
            event_consumer_name="api-tests",
            event_block_ms=100,
        )
    )


def _problem(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == code


@pytest.fixture
async def events(
    stack: SessionStack, db: asyncpg.Pool, redis: aioredis.Redis
) -> AsyncIterator[httpx.AsyncClient]:
    """The event front (its consumer running) with sessions of alice and bob and one hand."""
    await session(redis, "SESSION_STARTED", "alice")
    await session(redis, "SESSION_ENDED", "alice", duration_ms=40_000)
    await session(redis, "SESSION_STARTED", "bob")
    await session(redis, "SESSION_ENDED", "bob", duration_ms=80_000)
    await append_hand(redis, hand("t0123456789-h1", {"alice": 20, "bob": -20}, ["alice"]))
    async with serving(_events(stack), "http://events") as client:

        async def stored() -> None:
            assert len((await client.get("/events")).json()["events"]) == 5

        await assert_eventually(stored, timeout=15)
        yield client


async def test_a_user_reads_only_its_own_events_and_a_service_reads_all(
    events: httpx.AsyncClient,
) -> None:
    alice = user_auth("alice")
    own = (await events.get("/events", headers=alice)).json()["events"]
    assert {e["type"] for e in own} == {"SESSION_STARTED", "SESSION_ENDED", "HAND_ENDED"}
    assert {e["user_id"] for e in own} == {"alice"}
    ended = next(e for e in own if e["type"] == "SESSION_ENDED")
    assert ended["data"]["duration_ms"] == 40_000
    assert ended["event_id"] == f"events:sessions:{ended['entry_id']}"
    hands = (await events.get("/events?type=HAND_ENDED&user_id=alice", headers=alice)).json()
    assert [e["data"]["net"] for e in hands["events"]] == [{"alice": 20, "bob": -20}]

    _problem(await events.get("/events?user_id=bob", headers=alice), 403, "FORBIDDEN")
    anonymous = {"Authorization": ""}  # over the client's service token
    _problem(await events.get("/events", headers=anonymous), 401, "UNAUTHENTICATED")
    everyone = (await events.get("/events?limit=2")).json()["events"]
    assert len(everyone) == 2
    bob = (await events.get("/events?user_id=bob&type=SESSION_STARTED")).json()["events"]
    assert [(e["user_id"], e["type"]) for e in bob] == [("bob", "SESSION_STARTED")]
    for bad in ("limit=0", "limit=501", "type=SESSION_PAUSED", "user_id=a%20b", "usr=alice"):
        _problem(await events.get(f"/events?{bad}"), 422, "VALIDATION_FAILED")


async def test_aggregates_are_for_services(
    events: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    _problem(await events.get("/events/aggregates", headers=user_auth("alice")), 403, "FORBIDDEN")
    now = datetime.now(UTC)
    late = hand("t0123456789-h2", {"carol": 5, "dave": -5}, ["carol"], at=now.isoformat())
    await append_hand(redis, late)

    async def counted() -> dict[str, Any]:
        figures: dict[str, Any] = (await events.get("/events/aggregates?days=2")).json()
        assert sum(hour["hands"] for hour in figures["hands_per_hour"]) == 1
        return figures

    figures = await assert_eventually(counted)
    # Two sessions started; alice, bob and the hand's carol and dave were active.
    assert (figures["sessions"], figures["players"]) == (2, 4)
    assert figures["median_session_seconds"] == 60.0
    assert len(figures["days"]) == 2
    today = figures["days"][-1]
    assert (today["sessions"], today["players"], today["median_session_seconds"]) == (2, 4, 60.0)
    assert figures["days"][0] == {
        "day": figures["days"][0]["day"],
        "sessions": 0,
        "players": 0,
        "median_session_seconds": None,
    }
    # The first hand is dated 2024, outside the window; the second is in this hour.
    hour = now.replace(minute=0, second=0, microsecond=0).isoformat().replace("+00:00", "Z")
    assert {h["hour"]: h["hands"] for h in figures["hands_per_hour"]}[hour] == 1
    _problem(await events.get("/events/aggregates?days=91"), 422, "VALIDATION_FAILED")


async def test_a_player_edits_only_its_own_profile_and_anyone_signed_in_reads_it(
    stack: SessionStack, db: asyncpg.Pool, events: httpx.AsyncClient
) -> None:
    async with serving(_game(stack), "http://game", headers={}) as game:
        fresh = await game.get("/players/carol", headers=user_auth("bob"))
        assert fresh.json() == {
            "user_id": "carol",
            "display_name": "carol",
            "stats": {"hands_played": 0, "hands_won": 0, "net_chips": 0},
        }
        renamed = await game.put(
            "/players/alice", json={"display_name": "  Alice A. "}, headers=user_auth("alice")
        )
        assert renamed.status_code == 200, renamed.text
        again = await game.put(
            "/players/alice", json={"display_name": "Alice A."}, headers=user_auth("alice")
        )
        assert again.json() == renamed.json()
        seen = (await game.get("/players/alice", headers=user_auth("bob"))).json()
        assert seen == {
            "user_id": "alice",
            "display_name": "Alice A.",
            "stats": {"hands_played": 1, "hands_won": 1, "net_chips": 20},
        }
        body = {"display_name": "Mallory"}
        _problem(
            await game.put("/players/alice", json=body, headers=user_auth("bob")),
            403,
            "FORBIDDEN",
        )
        _problem(await game.get("/players/alice"), 401, "UNAUTHENTICATED")
        by_service = await game.put(
            "/players/bob", json={"display_name": "B"}, headers=service_auth()
        )
        assert by_service.json()["display_name"] == "B"
        for bad in (
            {"display_name": ""},
            {"display_name": "   "},
            {"display_name": "a\nb"},
            {"display_name": "x" * 41},
            {"name": "x"},
            {},
        ):
            answer = await game.put("/players/alice", json=bad, headers=user_auth("alice"))
            _problem(answer, 422, "VALIDATION_FAILED")
        _problem(
            await game.get("/players/a%20b", headers=user_auth("bob")), 422, "VALIDATION_FAILED"
        )
        assert (await game.get("/players/alice", headers=user_auth("bob"))).json()[
            "display_name"
        ] == "Alice A."
    assert await db.fetchval("SELECT count(*) FROM players") == 2


async def test_through_the_gateway_a_session_becomes_the_players_event(
    stack: SessionStack, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    async with served(_game(stack)) as game_url, served(_events(stack)) as event_url:
        settings = gateway_settings(stack.redis_url, player_url=game_url, event_url=event_url)
        async with running_gateway(settings) as gateway:
            # A real WebSocket session: the gateway appends SESSION_STARTED and SESSION_ENDED.
            async with ws_client(gateway, "alice"):
                pass
            async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
                alice, bob = user_auth("alice"), user_auth("bob")

                async def ended() -> list[dict[str, Any]]:
                    answer = await http.get("/api/event/events?type=SESSION_ENDED", headers=alice)
                    assert answer.status_code == 200, answer.text
                    found: list[dict[str, Any]] = answer.json()["events"]
                    assert found
                    return found

                sessions = await assert_eventually(ended, timeout=15)
                assert sessions[0]["user_id"] == "alice"
                assert sessions[0]["data"]["client_type"]
                refused = await http.get("/api/event/events?user_id=alice", headers=bob)
                _problem(refused, 403, "FORBIDDEN")
                assert (await http.get("/api/event/events", headers=bob)).json() == {"events": []}

                put = await http.put(
                    "/api/player/players/alice", json={"display_name": "Al"}, headers=alice
                )
                assert put.status_code == 200, put.text
                stolen = await http.put(
                    "/api/player/players/alice", json={"display_name": "Bo"}, headers=bob
                )
                _problem(stolen, 403, "FORBIDDEN")
                read = await http.get("/api/player/players/alice", headers=bob)
                assert read.json()["display_name"] == "Al"
                # Internal surfaces stay behind the proxy.
                _problem(await http.get("/api/event/metrics", headers=alice), 403, "FORBIDDEN")
    assert await db.fetchval("SELECT count(*) FROM events WHERE user_id = 'alice'") == 2

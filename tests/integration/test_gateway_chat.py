"""Chat, presence and table handlers over real sockets, with a stand-in game service.

The tests taking `pair` or `store` run twice: on one Valkey ([single]) and on a 3-master
Valkey Cluster ([cluster]).
"""

from __future__ import annotations

import asyncio
import json

import httpx
import redis.asyncio as aioredis

from domain.gateway.chat import ChatStore
from domain.gateway.tables import TableEventLog, table_events_key
from infra.ports import free_port
from tests.conftest import SessionStack
from tests.integration.gateway_support import (  # noqa: F401  (fixtures)
    GameStandIn,
    RunningServer,
    Store,
    game_fixture,
    gateway_settings,
    pair_fixture,
    running_gateway,
    service_token,
    store_fixture,
    ws_client,
)


async def test_chat_is_validated_broadcast_stored_and_mute_checked(
    store: Store,
    pair: tuple[RunningServer, RunningServer],
    game: tuple[GameStandIn, RunningServer],
) -> None:
    a, b = pair
    state, _ = game
    state.muted.add("troll")
    async with (
        ws_client(a, "ann") as ann,
        ws_client(b, "ben") as ben,
        ws_client(a, "troll") as troll,
    ):
        for client in (ann, ben):
            await client.request({"type": "subscribe", "channel": "table:7"})
        sent = await ann.request({"type": "chat.send", "channel": "table:7", "text": "  hi all "})
        assert sent["type"] == "chat.sent", sent
        assert sent["text"] == "hi all"
        event = await ben.recv_until(lambda f: f["type"] == "event")
        assert event["channel"] == "table:7"
        assert event["data"]["kind"] == "chat.message"
        assert (event["data"]["user_id"], event["data"]["text"]) == ("ann", "hi all")
        history = await ben.request({"type": "chat.history", "channel": "table:7", "limit": 5})
        assert [m["text"] for m in history["messages"]] == ["hi all"]

        muted = await troll.request({"type": "chat.send", "channel": "table:7", "text": "spam"})
        assert muted["type"] == "error"
        assert muted["code"] == "MUTED"
        for text, why in [("", "empty"), ("x" * 501, "longer"), ("a\u202eb", "invisible")]:
            bad = await ann.request({"type": "chat.send", "channel": "table:7", "text": text})
            assert bad["code"] == "VALIDATION_FAILED"
            assert why in bad["message"]
        private = await ann.request({"type": "chat.send", "channel": "user:ann", "text": "x"})
        assert private["code"] == "VALIDATION_FAILED"

        for i in range(3):
            await ann.request({"type": "chat.send", "channel": "table:7", "text": f"m{i}"})
        history = await ben.request({"type": "chat.history", "channel": "table:7", "limit": 3})
        assert [m["text"] for m in history["messages"]] == ["m2", "m1", "m0"]
        older = await ben.request(
            {
                "type": "chat.history",
                "channel": "table:7",
                "before": history["messages"][-1]["id"],
            }
        )
        assert [m["text"] for m in older["messages"]] == ["hi all"]
    assert 0 < await store.redis.ttl("chat:table:7") <= 86_400


async def test_chat_retention_drops_old_messages(redis: aioredis.Redis) -> None:
    store = ChatStore(redis, retention_seconds=1)
    await store.save("lobby", "u1", "old")
    await asyncio.sleep(1.1)
    await store.save("lobby", "u1", "new")
    assert [m.text for m in await store.history("lobby", 10)] == ["new"]
    await store.trim("lobby")
    assert await redis.xlen("chat:lobby") == 1


async def test_presence_follows_every_connection_of_a_user_across_instances(
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, b = pair
    async with ws_client(a, "watcher") as watcher:
        await watcher.request({"type": "subscribe", "channel": "presence:pat"})

        async def next_status() -> str:
            frame = await watcher.recv_until(lambda f: f["type"] == "event")
            assert frame["channel"] == "presence:pat"
            return str(frame["data"]["status"])

        async with ws_client(a, "pat") as phone:
            assert await next_status() == "online"
            async with ws_client(b, "pat") as laptop:
                reply = await phone.request({"type": "presence.set", "status": "away"})
                assert reply["status"] == "online"  # the laptop is still online
                reply = await laptop.request({"type": "presence.set", "status": "away"})
                assert reply["status"] == "away"
                assert await next_status() == "away"
            # the laptop left; the phone is still connected (away)
            await phone.request({"type": "presence.set", "status": "online"})
            assert await next_status() == "online"
        assert await next_status() == "offline"


async def test_table_actions_go_to_the_game_service_and_resync_recovers_events(
    store: Store,
    pair: tuple[RunningServer, RunningServer],
    game: tuple[GameStandIn, RunningServer],
) -> None:
    a, b = pair
    state, _ = game
    # On the cluster the stream and counter share the channel's slot, so the scripts run.
    log = TableEventLog(store.redis, max_length=1000)
    async with ws_client(a, "quinn") as quinn:
        sub = await quinn.request({"type": "subscribe", "channel": "table:t1"})
        assert sub["last_event_id"] is None
        first = await log.publish("t1", {"kind": "table.dealt", "hand": 1})
        event = await quinn.recv_until(lambda f: f["type"] == "event")
        assert event["data"] == {"event_id": first, "kind": "table.dealt", "hand": 1}

        result = await quinn.request(
            {"type": "table.action", "table_id": "t1", "action": "raise", "amount": 50}
        )
        assert result["type"] == "table.action.result"
        assert result["result"] == {"accepted": True, "table_id": "t1"}
        assert state.actions[-1] == {
            "table_id": "t1",
            "user_id": "quinn",
            "action": "raise",
            "amount": 50,
            "params": {},
        }
        assert state.headers[-1]["authorization"].startswith("Bearer ")
        assert state.headers[-1]["traceparent"].startswith("00-")
        refused = await quinn.request({"type": "table.action", "table_id": "t1", "action": "cheat"})
        assert (refused["type"], refused["code"]) == ("error", "INVALID_STATE")

        # A writer that retries publishes each numbered event once.
        numbered = await log.publish_numbered("t1", [(1, {"hand": 2}), (1, {"hand": 2})])
        assert numbered[0] is not None
        assert numbered[1] is None
    assert await store.redis.xlen(table_events_key("t1", cluster=store.cluster)) == 2

    # Events published over HTTP by a backend while the player was away.
    async with httpx.AsyncClient(base_url=b.url) as http:
        auth = {"authorization": f"Bearer {service_token()}"}
        ids = [numbered[0]]
        for hand in (3, 4):
            response = await http.post(
                "/events",
                json={"channel": "table:t1", "data": {"kind": "table.dealt", "hand": hand}},
                headers=auth,
            )
            assert response.status_code == 202, response.text
            ids.append(response.json()["event_id"])
        player = await ws_client_token_post(http)
        assert player == 403

    async with ws_client(b, "quinn") as quinn:
        resync = await quinn.request(
            {"type": "table.resync", "table_id": "t1", "last_event_id": first}
        )
        assert resync["full_resync_required"] is False
        assert [e["event_id"] for e in resync["events"]] == ids
        assert [e["hand"] for e in resync["events"]] == [2, 3, 4]
        fresh = await quinn.request({"type": "table.resync", "table_id": "t1"})
        assert fresh["full_resync_required"] is True


async def ws_client_token_post(http: httpx.AsyncClient) -> int:
    """A player token may not publish events."""
    from tests.integration.gateway_support import user_token

    response = await http.post(
        "/events",
        json={"channel": "lobby", "data": {"kind": "fake"}},
        headers={"authorization": f"Bearer {user_token('quinn')}"},
    )
    return response.status_code


async def test_resync_says_full_resync_when_events_were_trimmed(redis: aioredis.Redis) -> None:
    log = TableEventLog(redis, max_length=1)
    first = await log.publish("t2", {"n": 0})
    for n in range(1, 300):
        await redis.xadd("tables:t2:events", {"data": json.dumps({"n": n})}, maxlen=100)
    resync = await log.since("t2", first)
    assert resync.full_resync_required
    assert "trimmed" in resync.reason


async def test_table_action_without_a_game_service_is_a_clear_error(
    stack: SessionStack, redis: aioredis.Redis
) -> None:
    async with (
        running_gateway(gateway_settings(stack.redis_url)) as gateway,
        ws_client(gateway, "rosa") as rosa,
    ):
        reply = await rosa.request({"type": "table.action", "table_id": "t1", "action": "fold"})
        assert reply["code"] == "UNAVAILABLE"
        assert "GAME_URL" in reply["message"]
        chat = await rosa.request({"type": "chat.send", "channel": "lobby", "text": "no mutes"})
        assert chat["type"] == "chat.sent"


async def test_an_unreachable_game_service_is_a_clear_error_and_the_socket_lives_on(
    stack: SessionStack, redis: aioredis.Redis
) -> None:
    settings = gateway_settings(stack.redis_url, game_url=f"http://127.0.0.1:{free_port()}")
    async with running_gateway(settings) as gateway, ws_client(gateway, "rosa") as rosa:
        reply = await rosa.request({"type": "table.action", "table_id": "t1", "action": "fold"})
        assert (reply["type"], reply["code"]) == ("error", "UPSTREAM_FAILED")
        assert "unreachable" in reply["message"]
        pong = await rosa.request({"type": "subscribe", "channel": "lobby"})
        assert pong["type"] == "subscribed"

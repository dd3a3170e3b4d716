"""Two gateway instances on a real 3-master Valkey Cluster: fan-out, chat, presence, limits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio.cluster import RedisCluster

from apis.gateway.settings import GatewaySettings
from domain.gateway.broadcast import Broadcaster
from domain.gateway.ratelimit import RateLimit, SlidingWindowLimiter
from domain.gateway.registry import ConnectionRegistry
from domain.gateway.tables import TableEventLog, table_events_key
from infra.redis import RedisClient, connect_redis
from saga.stack.valkey_cluster import EmbeddedValkeyCluster
from tests.eventually import assert_eventually
from tests.integration.gateway_support import (
    GameStandIn,
    RunningServer,
    gateway_settings,
    running_game_stand_in,
    running_gateway,
    service_token,
    ws_client,
)

# Table channels picked to land on every master (checked in the test).
_TABLES = [f"c{n}" for n in range(12)]


def _owner(cluster: RedisCluster, channel: str) -> str:
    node = cluster.get_node_from_key(channel)
    assert node is not None
    return str(node.name)


async def _shard_subscribers(cluster: RedisCluster, channels: list[str], count: int) -> None:
    """Each channel has `count` sharded subscribers on the master owning its slot."""
    for channel in channels:
        node = cluster.get_node_from_key(channel)
        reply = await cluster.execute_command("PUBSUB", "SHARDNUMSUB", channel, target_nodes=node)
        assert int(reply[1]) == count, (channel, reply)


async def _classic_subscribers(cluster: RedisCluster, channel: str, count: int) -> None:
    """`channel` has `count` classic subscribers over all the masters."""
    total = 0
    for node in cluster.get_primaries():
        reply = await cluster.execute_command("PUBSUB", "NUMSUB", channel, target_nodes=node)
        total += int(reply[1]) if isinstance(reply, list) else int(reply[channel.encode()])
    assert total == count, total


@pytest.fixture
async def game() -> AsyncIterator[tuple[GameStandIn, RunningServer]]:
    """The stand-in game service (mutes, table actions)."""
    async with running_game_stand_in() as running:
        yield running


@pytest.fixture
async def pair(
    valkey_cluster: EmbeddedValkeyCluster,
    cluster_redis: RedisClient,
    game: tuple[GameStandIn, RunningServer],
) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    """Two gateway instances on the (emptied) cluster."""
    _, server = game

    def settings() -> GatewaySettings:
        return gateway_settings(valkey_cluster.url, redis_cluster=True, game_url=server.url)

    async with (
        running_gateway(settings()) as a,
        running_gateway(settings()) as b,
    ):
        yield a, b


async def test_a_message_for_a_channel_reaches_both_gateways(
    valkey_cluster: EmbeddedValkeyCluster,
    cluster_redis: RedisClient,
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, b = pair
    assert isinstance(cluster_redis, RedisCluster)
    await cluster_redis.initialize()
    masters = {_owner(cluster_redis, f"table:{t}") for t in _TABLES}
    assert len(masters) == 3, "the table channels should be owned by all three masters"
    broadcaster = Broadcaster(cluster_redis)
    async with ws_client(a, "alice") as alice, ws_client(b, "bob") as bob:
        assert alice.welcome["instance_id"] != bob.welcome["instance_id"]
        channels = ["lobby", *(f"table:{t}" for t in _TABLES)]
        for client in (alice, bob):
            for channel in channels:
                reply = await client.request({"type": "subscribe", "channel": channel})
                assert reply["type"] == "subscribed", reply
        await assert_eventually(lambda: _shard_subscribers(cluster_redis, channels, 2))
        # The gateway's own publishers SPUBLISH: each channel is carried by its own shard.
        for n, channel in enumerate(channels):
            assert await broadcaster.to_channel(channel, {"kind": "tick", "n": n}) == 2
        for client in (alice, bob):
            seen = []
            for _ in channels:
                frame = await client.recv_until(lambda f: f["type"] == "event")
                seen.append((frame["channel"], frame["data"]["n"]))
            assert sorted(seen) == sorted((c, n) for n, c in enumerate(channels))
        # A publisher still using a plain PUBLISH reaches both instances too, once.
        await assert_eventually(lambda: _classic_subscribers(cluster_redis, "lobby", 2))
        await cluster_redis.publish("lobby", json.dumps({"kind": "lobby.update", "tables": 3}))
        for client in (alice, bob):
            event = await client.recv_until(lambda f: f["type"] == "event")
            assert event == {
                "type": "event",
                "channel": "lobby",
                "data": {"kind": "lobby.update", "tables": 3},
            }
        # Everyone, and one user.
        assert await broadcaster.to_all({"kind": "maintenance"}) == 2
        assert await broadcaster.to_user("alice", {"kind": "hello"}) == 1
        for client in (alice, bob):
            event = await client.recv_until(lambda f: f["type"] == "event")
            assert (event["channel"], event["data"]) == ("broadcast", {"kind": "maintenance"})
        event = await alice.recv_until(lambda f: f["type"] == "event")
        assert event == {"type": "event", "channel": "user:alice", "data": {"kind": "hello"}}
        # Unsubscribing on one instance leaves the other one listening.
        await alice.request({"type": "unsubscribe", "channel": "table:c0"})
        assert await broadcaster.to_channel("table:c0", {"kind": "tick", "n": -1}) == 1
        event = await bob.recv_until(lambda f: f["type"] == "event")
        assert (event["channel"], event["data"]["n"]) == ("table:c0", -1)

        registry = ConnectionRegistry(cluster_redis, ttl_seconds=3)

        async def both_registered() -> None:
            live = await registry.by_channel("table:c5")
            assert len(live) == 2, live
            assert [c.user_id for c in await registry.by_user("alice")] == ["alice"]

        await assert_eventually(both_registered, timeout=5)


async def test_chat_presence_and_table_resync_work_on_the_cluster(
    cluster_redis: RedisClient,
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
        sent = await ann.request({"type": "chat.send", "channel": "table:7", "text": " hi "})
        assert sent["type"] == "chat.sent", sent
        event = await ben.recv_until(lambda f: f["type"] == "event")
        assert (event["data"]["kind"], event["data"]["text"]) == ("chat.message", "hi")
        muted = await troll.request({"type": "chat.send", "channel": "table:7", "text": "x"})
        assert (muted["type"], muted["code"]) == ("error", "MUTED")
        history = await ben.request({"type": "chat.history", "channel": "table:7", "limit": 5})
        assert [m["text"] for m in history["messages"]] == ["hi"]

    # Presence across both instances.
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
                assert reply["status"] == "online"
                reply = await laptop.request({"type": "presence.set", "status": "away"})
                assert reply["status"] == "away"
                assert await next_status() == "away"
        assert await next_status() == "offline"

    # The table event log: stream and counter share the channel's slot, so the scripts run.
    log = TableEventLog(cluster_redis, max_length=1000)
    async with ws_client(a, "quinn") as quinn:
        await quinn.request({"type": "subscribe", "channel": "table:t1"})
        first = await log.publish("t1", {"kind": "table.dealt", "hand": 1})
        event = await quinn.recv_until(lambda f: f["type"] == "event")
        assert event["data"] == {"event_id": first, "kind": "table.dealt", "hand": 1}
        numbered = await log.publish_numbered("t1", [(1, {"hand": 2}), (1, {"hand": 2})])
        assert numbered[0] is not None
        assert numbered[1] is None
    assert await cluster_redis.xlen(table_events_key("t1", cluster=True)) == 2
    async with httpx.AsyncClient(base_url=b.url) as http:
        auth = {"authorization": f"Bearer {service_token()}"}
        response = await http.post(
            "/events",
            json={"channel": "table:t1", "data": {"kind": "table.dealt", "hand": 3}},
            headers=auth,
        )
        assert response.status_code == 202, response.text
        last = response.json()["event_id"]
    async with ws_client(b, "quinn") as quinn:
        resync = await quinn.request(
            {"type": "table.resync", "table_id": "t1", "last_event_id": first}
        )
        assert resync["full_resync_required"] is False
        assert [e["hand"] for e in resync["events"]] == [2, 3]
        assert resync["events"][-1]["event_id"] == last


async def test_rate_limits_are_shared_on_the_cluster(cluster_redis: RedisClient) -> None:
    limiter = SlidingWindowLimiter(cluster_redis)
    rule = RateLimit(limit=3, window_seconds=30)
    decisions = [await limiter.hit(f"user:{n % 2}", rule) for n in range(8)]
    assert [d.allowed for d in decisions] == [True] * 6 + [False] * 2
    assert decisions[-1].retry_after_seconds > 0
    assert await limiter.count("user:0", rule) == 3
    await limiter.reset("user:0")
    assert (await limiter.hit("user:0", rule)).allowed


async def test_fan_out_comes_back_after_the_masters_drop_the_subscribers(
    valkey_cluster: EmbeddedValkeyCluster,
    cluster_redis: RedisClient,
    pair: tuple[RunningServer, RunningServer],
) -> None:
    a, b = pair
    broadcaster = Broadcaster(cluster_redis)
    async with ws_client(a, "uma") as uma, ws_client(b, "vic") as vic:
        channels = [f"table:{t}" for t in _TABLES[:6]]
        for client in (uma, vic):
            for channel in channels:
                await client.request({"type": "subscribe", "channel": channel})
        for node in await valkey_cluster.master_nodes():
            alone = connect_redis(f"redis://{node.address}/0")
            await alone.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            await alone.aclose()

        async def all_heard() -> None:
            for channel in channels:
                assert await broadcaster.to_channel(channel, {"kind": "ping"}) == 2

        await assert_eventually(all_heard, timeout=10)
        for client in (uma, vic):
            frame = await client.recv_until(lambda f: f["type"] == "event", timeout=5)
            assert frame["data"] == {"kind": "ping"}

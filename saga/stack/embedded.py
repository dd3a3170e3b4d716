"""Start the parts of the stack that have no external address configured."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from infra.settings import PlatformSettings
from saga.stack.postgres import EmbeddedPostgres
from saga.stack.probes import probe_postgres, probe_redis, probe_temporal
from saga.stack.process import ManagedProcess, StackError
from saga.stack.temporal import TemporalDevServer
from saga.stack.valkey import EmbeddedValkey


class _Part(Protocol):
    process: ManagedProcess | None

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass(frozen=True)
class Endpoints:
    """Where each part of the stack answers, embedded or external."""

    temporal_address: str
    temporal_ui_url: str | None
    database_url: str
    redis_url: str

    def as_env(self) -> dict[str, str]:
        """Environment that points a child process at exactly these endpoints."""
        return {
            "TEMPORAL_ADDRESS": self.temporal_address,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
        }


@dataclass
class EmbeddedStack:
    """Temporal, PostgreSQL and Valkey under `home`, each skipped when configured externally."""

    settings: PlatformSettings
    home: Path
    durable: bool = True
    _started: list[_Part] = field(default_factory=list)

    def _plan(self) -> tuple[Endpoints, list[_Part]]:
        s = self.settings
        logs = self.home / "logs"
        parts: list[_Part] = []
        temporal_ui: str | None = None
        if s.temporal_address is None:
            temporal = TemporalDevServer(
                self.home / "temporal",
                s.temporal_port,
                s.temporal_ui_port,
                s.bind_host,
                logs,
                s.temporal_namespace,
            )
            temporal_ui = temporal.ui_url
            parts.append(temporal)
        if s.database_url is None:
            parts.append(
                EmbeddedPostgres(
                    self.home / "postgres", s.postgres_port, s.bind_host, logs, fsync=self.durable
                )
            )
        if s.redis_url is None:
            parts.append(
                EmbeddedValkey(
                    self.home / "valkey", s.redis_port, s.bind_host, logs, persistent=self.durable
                )
            )
        endpoints = Endpoints(
            s.resolved_temporal_address, temporal_ui, s.resolved_database_url, s.resolved_redis_url
        )
        return endpoints, parts

    async def start(self) -> Endpoints:
        """Start the embedded parts concurrently and check the external ones answer."""
        endpoints, parts = self._plan()
        results = await asyncio.gather(*(self._start_one(p) for p in parts), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            await self.stop()
            raise failures[0]
        await self._check_external(endpoints)
        return endpoints

    async def _start_one(self, part: _Part) -> None:
        try:
            await part.start()
        finally:
            # Even a part that failed half-way may have a process to stop.
            self._started.append(part)

    async def _check_external(self, endpoints: Endpoints) -> None:
        s = self.settings
        checks = []
        if s.temporal_address is not None:
            checks.append(
                (
                    "Temporal",
                    "TEMPORAL_ADDRESS",
                    s.temporal_address,
                    probe_temporal(endpoints.temporal_address),
                )
            )
        if s.database_url is not None:
            checks.append(
                (
                    "PostgreSQL",
                    "DATABASE_URL",
                    _redact(s.database_url),
                    probe_postgres(endpoints.database_url),
                )
            )
        if s.redis_url is not None:
            checks.append(
                ("Redis", "REDIS_URL", _redact(s.redis_url), probe_redis(endpoints.redis_url))
            )
        for what, variable, shown, probe in checks:
            try:
                await asyncio.wait_for(probe, timeout=5)
            except Exception as exc:
                await self.stop()
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise StackError(
                    f"{what} at {shown} ({variable}) is unreachable: {reason}"
                ) from None

    def parts(self) -> list[_Part]:
        """The embedded parts started so far, for the supervisor to watch and restart."""
        return list(self._started)

    async def stop(self) -> None:
        """Stop every started part, all at once."""
        started, self._started = self._started, []
        with contextlib.suppress(Exception):
            await asyncio.gather(*(p.stop() for p in reversed(started)), return_exceptions=True)


def _redact(url: str) -> str:
    """Hide a password in a URL before showing it."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url

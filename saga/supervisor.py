"""`saga up`: start the stack, migrate, run every service, restart what crashes, stop cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from infra.db.migrate import migrate
from infra.settings import PlatformSettings
from saga.restarts import ServiceChild, StackChild, Watchdog
from saga.services import ServiceSpec, platform_services
from saga.stack.embedded import EmbeddedStack, Endpoints
from saga.stack.probes import probe_http
from saga.stack.process import ManagedProcess, StackError, ensure_port_free, wait_until

T = TypeVar("T")
STATE_FILE = "supervisor.json"


@dataclass
class RunningService:
    """A service process and what it is."""

    spec: ServiceSpec
    process: ManagedProcess


@dataclass
class Supervisor:
    """Owns every process of one `saga up`."""

    settings: PlatformSettings
    console: Console = field(default_factory=Console)
    home: Path = field(init=False)
    stack: EmbeddedStack = field(init=False)
    services: list[RunningService] = field(default_factory=list)
    watchdog: Watchdog = field(init=False)
    _endpoints: Endpoints | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.home = self.settings.saga_home.resolve()
        self.stack = EmbeddedStack(self.settings, self.home)
        self.watchdog = Watchdog(self.console, on_restarted=self._rewrite_state)

    async def run(self) -> int:
        """Start everything, wait for a stop signal, stop everything; the exit code."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            self._claim_home()
            started = time.perf_counter()
            with self.console.status("starting Temporal, PostgreSQL and Valkey..."):
                endpoints = await self._race(self.stack.start(), stop)
            if endpoints is None:
                return 130
            with self.console.status("applying migrations..."):
                applied = await migrate(endpoints.database_url)
            for name in applied:
                self.console.print(f"[green]migrated[/] {name}")
            with self.console.status("starting services..."):
                ready = await self._race(self._start_services(endpoints), stop)
            if ready is None:
                return 130
            elapsed = time.perf_counter() - started
            self._print_table(endpoints)
            self.console.print(
                f"[bold green]all healthy in {elapsed:.1f}s[/]; Ctrl-C stops everything"
            )
            self._endpoints = endpoints
            self._write_state(endpoints)
            await self._watch(stop)
            return 0
        except StackError as exc:
            self.console.print(f"[bold red]error:[/] {exc}")
            return 1
        finally:
            await self._shutdown()

    async def _race(self, work: Coroutine[Any, Any, T], stop: asyncio.Event) -> T | None:
        """Run `work` unless a stop signal comes first."""
        task = asyncio.ensure_future(work)
        stopper = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if task in done:
            return task.result()
        task.cancel()
        return None

    def _claim_home(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        state = self.home / STATE_FILE
        if state.exists():
            pid = json.loads(state.read_text()).get("pid")
            if isinstance(pid, int) and _alive(pid):
                raise StackError(f"saga is already running from {self.home} (pid {pid})")
            state.unlink()

    async def _start_services(self, endpoints: Endpoints) -> bool:
        for spec in platform_services(self.settings):
            ensure_port_free(self.settings.bind_host, spec.port, spec.name, f"the {spec.name} port")
        env = {**endpoints.as_env(), "SAGA_HOME": str(self.home), "PYTHONUNBUFFERED": "1"}
        # The gateway proxies /api/game/... and forwards table actions to the game we start.
        env["GAME_URL"] = self.settings.game_url or self.settings.service_url("game")
        # Player profiles are served by the game (DESIGN 5); events by the event front.
        env["PLAYER_URL"] = self.settings.player_url or self.settings.service_url("game")
        env["EVENT_URL"] = self.settings.event_url or self.settings.service_url("event")
        for spec in platform_services(self.settings):
            process = ManagedProcess(
                spec.name,
                [sys.executable, "-m", "saga", *spec.command],
                self.home / "logs" / f"{spec.name}.log",
                env=env,
            )
            process.start()
            self.services.append(RunningService(spec, process))
        await asyncio.gather(
            *(
                wait_until(
                    _http_ok(s.spec.health_url),
                    timeout=60,
                    what=s.spec.name,
                    process=s.process,
                    interval=0.1,
                )
                for s in self.services
            )
        )
        return True

    async def _watch(self, stop: asyncio.Event) -> None:
        """Restart a crashed service or embedded stack part, with backoff, until asked to stop."""
        for part in self.stack.parts():
            self.watchdog.watch(StackChild(part))
        for service in self.services:
            self.watchdog.watch(ServiceChild(service.process))
        await self.watchdog.run(stop)

    async def _shutdown(self) -> None:
        if self.services:
            self.console.print("stopping services...")
            await asyncio.gather(*(s.process.stop() for s in self.services))
            self.services.clear()
        self.console.print("stopping Temporal, PostgreSQL and Valkey...")
        await self.stack.stop()
        state = self.home / STATE_FILE
        if state.exists() and json.loads(state.read_text()).get("pid") == os.getpid():
            state.unlink()
        self.console.print("stopped")

    def _print_table(self, endpoints: Endpoints) -> None:
        table = Table(title="saga platform", title_justify="left")
        table.add_column("part")
        table.add_column("address")
        table.add_column("notes")
        for name, address, notes in _rows(self.settings, endpoints, self.services):
            table.add_row(name, address, notes)
        self.console.print(table)

    def _rewrite_state(self) -> None:
        """After a restart: the state file lists the new pids."""
        if self._endpoints is not None:
            self._write_state(self._endpoints)

    def _write_state(self, endpoints: Endpoints) -> None:
        state = {
            "pid": os.getpid(),
            "started_at": time.time(),
            "endpoints": endpoints.as_env() | {"TEMPORAL_UI": endpoints.temporal_ui_url},
            "services": [
                {
                    "name": s.spec.name,
                    "url": s.spec.url,
                    "health_url": s.spec.health_url,
                    "pid": s.process.pid,
                }
                for s in self.services
            ],
            "stack": [
                {"name": p.process.name, "pid": p.process.pid}
                for p in self.stack.parts()
                if p.process is not None
            ],
            "restarts": self.watchdog.restarts(),
        }
        # Written whole and renamed, so a reader never sees half a file.
        staging = self.home / f"{STATE_FILE}.tmp"
        staging.write_text(json.dumps(state, indent=2))
        staging.replace(self.home / STATE_FILE)


def _rows(
    settings: PlatformSettings, endpoints: Endpoints, services: list[RunningService]
) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    if endpoints.temporal_ui_url:
        rows.append(("Temporal Web UI", endpoints.temporal_ui_url, "workflows, search attributes"))
    rows.append(
        (
            "Temporal frontend",
            endpoints.temporal_address,
            f"namespace {settings.temporal_namespace}",
        )
    )
    rows.append(
        (
            "PostgreSQL",
            endpoints.database_url,
            "embedded" if settings.database_url is None else "external",
        )
    )
    rows.append(
        (
            "Valkey / Redis",
            endpoints.redis_url,
            "embedded" if settings.redis_url is None else "external",
        )
    )
    for service in services:
        rows.append((service.spec.name, service.spec.url, service.spec.description))
    return rows


def _http_ok(url: str) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        await probe_http(url)
        return True

    return probe


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

"""Restart crashed children of `saga up`, services and embedded stack parts alike, with backoff."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from rich.console import Console

from saga.stack.process import ManagedProcess


class Child(Protocol):
    """Something the supervisor keeps running."""

    @property
    def name(self) -> str:
        """Shown in messages and the state file."""
        ...

    @property
    def pid(self) -> int | None:
        """The running process, if any."""
        ...

    @property
    def returncode(self) -> int | None:
        """None while running, else the exit code."""
        ...

    @property
    def log_path(self) -> str:
        """Where its output goes."""
        ...

    async def restart(self) -> None:
        """Start it again; raise if it does not come up."""
        ...


@dataclass
class ServiceChild:
    """A worker or front: restarting it is starting its process again."""

    process: ManagedProcess

    @property
    def name(self) -> str:
        """The service's name."""
        return self.process.name

    @property
    def pid(self) -> int | None:
        """The service's pid."""
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        """The service's exit code, None while it runs."""
        return self.process.returncode

    @property
    def log_path(self) -> str:
        """The service's log."""
        return str(self.process.log_path)

    async def restart(self) -> None:
        """Spawn the process again; its health is the service's own business."""
        self.process.start()


class StackPart(Protocol):
    """An embedded server: Temporal, PostgreSQL or Valkey."""

    process: ManagedProcess | None

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass
class StackChild:
    """An embedded stack part: restarting it waits until it serves again."""

    part: StackPart

    @property
    def name(self) -> str:
        """The part's process name."""
        return self.part.process.name if self.part.process else type(self.part).__name__

    @property
    def pid(self) -> int | None:
        """The part's pid."""
        return self.part.process.pid if self.part.process else None

    @property
    def returncode(self) -> int | None:
        """The part's exit code, None while it runs."""
        return self.part.process.returncode if self.part.process else None

    @property
    def log_path(self) -> str:
        """The part's log."""
        return str(self.part.process.log_path) if self.part.process else "-"

    async def restart(self) -> None:
        """Start the part (recovering its data); a half-started process is stopped again."""
        try:
            await self.part.start()
        except BaseException:
            # Stopped, it reads as exited, so the next attempt comes after a longer backoff.
            await self.part.stop()
            raise


@dataclass(frozen=True)
class RestartPolicy:
    """Exponential backoff over crashes in a row; a child that stayed up a while starts over."""

    initial_delay: float = 1.0
    max_delay: float = 30.0
    stable_after: float = 30.0

    def delay(self, crashes_in_a_row: int) -> float:
        """Seconds to wait before the restart after `crashes_in_a_row` quick crashes."""
        return float(min(self.max_delay, self.initial_delay * 2.0**crashes_in_a_row))


@dataclass
class _Watched:
    child: Child
    started_at: float
    restarts: int = 0
    crashes_in_a_row: int = 0
    next_restart_at: float | None = None
    restarting: asyncio.Task[None] | None = None


@dataclass
class Watchdog:
    """Polls its children and restarts the ones that exited, one restart task per child."""

    console: Console
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    on_restarted: Callable[[], None] = lambda: None
    _watched: list[_Watched] = field(default_factory=list)

    def watch(self, child: Child) -> None:
        """Keep `child` running from now on."""
        self._watched.append(_Watched(child, asyncio.get_running_loop().time()))

    def restarts(self) -> dict[str, int]:
        """How often each child was restarted."""
        return {w.child.name: w.restarts for w in self._watched}

    async def run(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        """Check every `interval` seconds until `stop` is set; then cancel restarts in flight."""
        try:
            while not stop.is_set():
                self.check()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)
        finally:
            pending = [w.restarting for w in self._watched if w.restarting is not None]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def check(self) -> None:
        """Schedule or start the restart of every child that exited."""
        now = asyncio.get_running_loop().time()
        for watched in self._watched:
            if watched.restarting is not None:
                if not watched.restarting.done():
                    continue
                watched.restarting = None
            code = watched.child.returncode
            if code is None:
                continue
            if watched.next_restart_at is None:
                if now - watched.started_at >= self.policy.stable_after:
                    watched.crashes_in_a_row = 0
                delay = self.policy.delay(watched.crashes_in_a_row)
                watched.crashes_in_a_row += 1
                watched.next_restart_at = now + delay
                self.console.print(
                    f"[yellow]{watched.child.name} exited with code {code}; "
                    f"restarting in {delay:.0f}s[/] (log: {watched.child.log_path})"
                )
            elif now >= watched.next_restart_at:
                watched.next_restart_at = None
                watched.started_at = now
                watched.restarting = asyncio.create_task(self._restart(watched))

    async def _restart(self, watched: _Watched) -> None:
        try:
            await watched.child.restart()
        except Exception as exc:
            # The child reads as exited again, so the next check schedules another attempt.
            reason = str(exc) or type(exc).__name__
            self.console.print(f"[red]restarting {watched.child.name} failed:[/] {reason}")
            return
        watched.restarts += 1
        self.console.print(f"[green]{watched.child.name} restarted[/] (pid {watched.child.pid})")
        self.on_restarted()

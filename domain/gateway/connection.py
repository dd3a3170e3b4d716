"""One authenticated WebSocket: its bounded send queue, its writer, its timers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum

from domain.gateway.frames import CloseCode

log = logging.getLogger(__name__)

SendText = Callable[[str], Awaitable[None]]
CloseSocket = Callable[[int, str], Awaitable[None]]


class PresenceStatus(StrEnum):
    """What others see of a user."""

    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Connection:
    """Frames to one client go through a bounded queue, so a slow client never blocks others."""

    def __init__(
        self,
        connection_id: str,
        user_id: str,
        *,
        ip: str,
        client_type: str,
        send: SendText,
        close: CloseSocket,
        queue_size: int,
    ) -> None:
        self.connection_id = connection_id
        self.user_id = user_id
        self.ip = ip
        self.client_type = client_type
        self.channels: set[str] = set()
        self.status = PresenceStatus.ONLINE
        self.connected_at = time.time()
        self.last_seen = time.monotonic()
        self.close_code: int | None = None
        self.on_slow: Callable[[Connection], None] | None = None
        self._send = send
        self._close = close
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_size)
        self._writer: asyncio.Task[None] | None = None
        self._expiry: asyncio.TimerHandle | None = None
        self._closing: asyncio.Task[None] | None = None

    @property
    def open(self) -> bool:
        """False once the gateway decided to close it."""
        return self.close_code is None

    def start(self) -> None:
        """Start the writer task."""
        self._writer = asyncio.create_task(self._write(), name=f"ws-writer-{self.connection_id}")

    def offer(self, text: str) -> bool:
        """Queue a frame without waiting; a full queue disconnects this (slow) client."""
        if self.close_code is not None:
            return False
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            if self.on_slow is not None:
                self.on_slow(self)
            self.kill(CloseCode.SLOW_CONSUMER, "slow consumer: send queue full")
            return False
        return True

    def touch(self) -> None:
        """Note that the client showed a sign of life."""
        self.last_seen = time.monotonic()

    def expire_at(self, epoch_seconds: float) -> None:
        """Close with TOKEN_EXPIRED at `epoch_seconds` unless a refresh moves it."""
        if self._expiry is not None:
            self._expiry.cancel()
        loop = asyncio.get_running_loop()
        delay = max(0.0, epoch_seconds - time.time())
        self._expiry = loop.call_at(
            loop.time() + delay, self.kill, CloseCode.TOKEN_EXPIRED, "token expired"
        )

    def kill(self, code: int, reason: str) -> None:
        """Close the socket with `code` (once); frames still queued are dropped."""
        if self.close_code is not None:
            return
        self.close_code = code
        self._stop_timers()
        if self._writer is not None:
            self._writer.cancel()
        self._closing = asyncio.create_task(self._close_quietly(code, reason))

    async def closed(self) -> None:
        """Wait until the close that `kill` started has been sent (or has failed)."""
        if self._closing is not None:
            # wait() rather than await: the close may be cancelled by `finish`, which is fine.
            await asyncio.wait([self._closing])

    async def _close_quietly(self, code: int, reason: str) -> None:
        try:
            await self._close(code, reason)
        except Exception as exc:
            log.debug("close of %s failed: %s", self.connection_id, exc)

    async def finish(self) -> None:
        """Stop the writer and timers once the socket is gone."""
        self._stop_timers()
        if self.close_code is None:
            self.close_code = CloseCode.NORMAL
        for task in (self._writer, self._closing):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def _stop_timers(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None

    async def _write(self) -> None:
        queue, send = self._queue, self._send
        try:
            while True:
                await send(await queue.get())
                # Drain a backlog without going back through the scheduler for each frame.
                while not queue.empty():
                    await send(queue.get_nowait())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The socket went away under us; the receive loop sees the disconnect.
            log.debug("writer of %s stopped: %s", self.connection_id, exc)

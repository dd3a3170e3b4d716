"""Serving inside a process that handles its own signals: quiet ASGI servers, one stop path."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Sequence
from typing import Any

import uvicorn


class HostedServer(uvicorn.Server):
    """A uvicorn server that leaves SIGINT/SIGTERM to the process hosting it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Do not install handlers: the host decides when to set `should_exit`."""
        yield


def hosted_server(app: Any, host: str, port: int) -> HostedServer:
    """A quiet server for `app` on host:port."""
    return HostedServer(
        uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    )


async def serve_until_signalled(
    *,
    servers: Sequence[HostedServer] = (),
    tasks: Iterable[Coroutine[Any, Any, Any]] = (),
    stop: asyncio.Event | None = None,
    drain: Callable[[], Awaitable[object]] | None = None,
    grace_seconds: float = 15.0,
) -> None:
    """Serve `servers` and run `tasks` until SIGINT/SIGTERM, `stop`, or one of them ends.

    Then `drain` runs (stop taking work, finish what is in flight), the servers are told to
    exit, and every task gets `grace_seconds` to end before it is cancelled. A task that
    failed has its error raised here, after the clean-up.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    running = [asyncio.create_task(s.serve()) for s in servers]
    running += [asyncio.create_task(t) for t in tasks]
    stopped = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([*running, stopped], return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in done if t is not stopped and not t.cancelled() and t.exception()]
    finally:
        stop.set()
        stopped.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if drain is not None:
            with contextlib.suppress(Exception):
                await drain()
        for server in servers:
            server.should_exit = True
        if running:
            _, late = await asyncio.wait(running, timeout=grace_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
    if failed:
        raise failed[0].exception()  # type: ignore[misc]

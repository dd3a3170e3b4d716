"""Serving our ASGI apps: JSON logs, a graceful stop that says what it did, one stop path."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Sequence
from typing import Any

import uvicorn

from infra.event_loop import freeze_startup_heap

log = logging.getLogger(__name__)

# Requests in flight at a stop get this long to finish before uvicorn cancels them: less than
# the shortest grace a host gives its servers (serve_until_signalled's), so uvicorn's own stop
# and its summary line come first.
GRACE_SECONDS = 4.0

SocketCloser = Callable[[], Awaitable[int]]


KEEP_ALIVE_SECONDS = 65


def uvicorn_config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's config for one of our apps: its own logs through ours, as JSON; no access log.

    `log_config=None` keeps uvicorn from installing its plain-text handlers; its loggers
    propagate to the JSON handler of `configure_logging`, and each request is logged once by
    the app's own middleware (infra/http_telemetry.py).

    An idle keep-alive connection is kept longer than our clients keep theirs (httpx 5 s,
    aiohttp 15 s): a server that closes first races a client reusing it, which then fails a
    request with a ReadError (seen in bench.poker with uvicorn's default of 5 s).
    """
    chosen: dict[str, Any] = {
        "log_level": "warning",
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": GRACE_SECONDS,
        **options,
    }
    return uvicorn.Config(app, host=host, port=port, **chosen)


class GracefulServer(uvicorn.Server):
    """A uvicorn server whose stop closes long-lived sockets first and ends in one log line.

    `close_sockets` (the gateway's: every WebSocket with 1001 and a reason) runs once new
    connections are refused and before uvicorn's own shutdown, which would close them with
    1012 and no reason; it returns how many it closed.
    """

    def __init__(self, config: uvicorn.Config, *, close_sockets: SocketCloser | None = None):
        super().__init__(config)
        self.close_sockets = close_sockets

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Refuse new connections, close sockets, let requests finish, then say so once."""
        for server in self.servers:
            server.close()
        closed = 0
        if self.close_sockets is not None:
            try:
                closed = await self.close_sockets()
            except Exception as exc:
                log.warning("closing sockets at shutdown failed: %s", exc)
        in_flight = list(self.server_state.tasks)
        await super().shutdown(sockets)
        # uvicorn answers a request it cancelled (a 500), so the task ends as if it had not been.
        cut_short = sum(task.cancelling() > 0 or not task.done() for task in in_flight)
        log.info(
            "stopped: closed %d sockets; %d requests and sockets in flight, %d cut short at %g s",
            closed,
            len(in_flight),
            cut_short,
            self.config.timeout_graceful_shutdown or 0,
            extra={"sockets_closed": closed, "in_flight": len(in_flight), "cut_short": cut_short},
        )


class HostedServer(GracefulServer):
    """A graceful server that leaves SIGINT/SIGTERM to the process hosting it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Do not install handlers: the host decides when to set `should_exit`."""
        yield


def hosted_server(app: Any, host: str, port: int) -> HostedServer:
    """A quiet server for `app` on host:port."""
    return HostedServer(uvicorn_config(app, host, port))


def run_server(server: GracefulServer) -> None:
    """Serve until SIGINT/SIGTERM (what `uvicorn.run` does); exit 3 if it never started.

    The app is built by now: what start-up made is frozen out of the collector's full passes
    (infra/event_loop.py), so they do not stall every request in flight.
    """
    freeze_startup_heap()
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(3)


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

"""ASGI servers inside a process that handles its own signals (workers, multi-server fronts)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
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

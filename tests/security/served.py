"""Real servers on loopback ports for the security tests, run on the test's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from infra.ports import free_port
from infra.serving import hosted_server


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """`app` under uvicorn (its lifespan included) on a free port; yields its base URL."""
    port = free_port()
    server = hosted_server(app, "127.0.0.1", port)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.02)
        assert server.started, "the server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task

"""Our fronts keep an idle connection longer than our clients do, so no client reuses one the
server is already closing (the race showed up as a ReadError in bench.poker and
bench.order_saga while uvicorn closed idle connections after its default 5 s)."""

from __future__ import annotations

import aiohttp
import httpx
from fastapi import FastAPI

from infra.serving import uvicorn_config


async def test_a_front_outlives_every_client_s_idle_connection() -> None:
    config = uvicorn_config(FastAPI(), "127.0.0.1", 0)
    httpx_idle = httpx.Limits().keepalive_expiry
    async with aiohttp.ClientSession() as session:
        connector = session.connector
        assert isinstance(connector, aiohttp.BaseConnector)
        aiohttp_idle = connector._keepalive_timeout
    assert httpx_idle is not None
    assert aiohttp_idle is not None
    assert config.timeout_keep_alive > max(httpx_idle, aiohttp_idle)

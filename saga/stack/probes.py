"""Health probes for each part of the stack; each raises on failure and returns latency."""

from __future__ import annotations

import time

import asyncpg
import httpx
import redis.asyncio as aioredis
from temporalio.client import Client


async def probe_temporal(address: str, namespace: str = "default") -> float:
    """Connect to the Temporal frontend (it answers GetSystemInfo)."""
    started = time.perf_counter()
    await Client.connect(address, namespace=namespace)
    return time.perf_counter() - started


async def probe_postgres(dsn: str) -> float:
    """Run `SELECT 1`."""
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn, timeout=3)
    try:
        await conn.fetchval("SELECT 1")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def probe_redis(url: str) -> float:
    """PING."""
    started = time.perf_counter()
    client = aioredis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        await client.ping()
    finally:
        await client.aclose()
    return time.perf_counter() - started


async def probe_http(url: str) -> float:
    """GET `url`; anything but 2xx is a failure."""
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=3) as http:
        response = await http.get(url)
        response.raise_for_status()
    return time.perf_counter() - started

"""The asyncpg pool each process creates once in its bootstrap."""

from __future__ import annotations

import asyncpg


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool with a short statement cache lifetime suited to migrations changing the schema."""
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size)
    if pool is None:  # asyncpg types this as Optional although it never returns None
        raise RuntimeError("asyncpg.create_pool returned no pool")
    return pool

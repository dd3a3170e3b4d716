"""The pool releases connections without asyncpg's reset query, and still leaves nothing open."""

from __future__ import annotations

import asyncpg

from infra.db.pool import create_pool
from tests.conftest import SessionStack


async def test_a_transaction_left_open_is_rolled_back_on_release(stack: SessionStack) -> None:
    pool = await create_pool(stack.database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute("CREATE TEMP TABLE IF NOT EXISTS leak (n int)")
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO leak VALUES (1)")
            assert conn.is_in_transaction()
        # max_size=1: the same connection comes back.
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT count(*) FROM leak") == 0
    finally:
        await pool.close()


async def test_release_sends_no_reset_query(stack: SessionStack) -> None:
    pool = await create_pool(stack.database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            backend = await conn.fetchval("SELECT pg_backend_pid()")
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") == backend
        watcher = await asyncpg.connect(stack.database_url)
        try:
            # The last statement the pooled backend ran is ours, not `RESET ALL`.
            last = await watcher.fetchval(
                "SELECT query FROM pg_stat_activity WHERE pid = $1", backend
            )
        finally:
            await watcher.close()
        assert last == "SELECT pg_backend_pid()"
    finally:
        await pool.close()

"""The asyncpg pool each process creates once in its bootstrap."""

from __future__ import annotations

import asyncpg


class PooledConnection(asyncpg.Connection):
    """A pool connection released without asyncpg's reset query.

    On every release asyncpg sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL` by default: one more round trip per request (an eighth of the edge's CPU for
    `GET /orders/{id}`). The platform's code never changes session state on a pooled
    connection (no SET, LISTEN, cursors or advisory locks outlive a transaction; the LISTEN
    connections and the migration lock use connections of their own), and asyncpg still rolls
    back a transaction left open, whatever this returns.
    """

    def get_reset_query(self) -> str:
        """No reset query: see the class."""
        return ""


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool of `PooledConnection`s."""
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, connection_class=PooledConnection
    )
    if pool is None:  # asyncpg types this as Optional although it never returns None
        raise RuntimeError("asyncpg.create_pool returned no pool")
    return pool

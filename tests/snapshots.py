"""Snapshots of values, not names: every Redis key with its type and value, every table row.

`await snapshot(db, redis)` before and after a bad input, then `assert_unchanged(before, after)`:
a changed hash field, a new stream entry, an edited row all fail with a readable diff, where a
comparison of key names or row counts would pass.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg
import redis.asyncio as aioredis


@dataclass(frozen=True)
class Snapshot:
    """Every Redis key (type, value) and every application table's rows, sorted."""

    keys: dict[bytes, tuple[str, Any]]
    tables: dict[str, list[tuple[Any, ...]]]


async def _value(redis: aioredis.Redis, key: bytes, kind: str) -> Any:
    if kind == "string":
        return await redis.get(key)
    if kind == "hash":
        return sorted((await redis.hgetall(key)).items())
    if kind == "set":
        return sorted(await redis.smembers(key))
    if kind == "zset":
        return await redis.zrange(key, 0, -1, withscores=True)
    if kind == "list":
        return await redis.lrange(key, 0, -1)
    if kind == "stream":
        entries: list[Any] = list(await redis.xrange(key) or ())
        return [(entry_id, sorted((fields or {}).items())) for entry_id, fields in entries]
    raise AssertionError(f"snapshot does not know Redis type {kind!r} (key {key!r})")


async def redis_values(
    redis: aioredis.Redis, ignore: Iterable[str] = ()
) -> dict[bytes, tuple[str, Any]]:
    """Every key (but those matching a glob in `ignore`) with its type and full value."""
    patterns = tuple(ignore)
    found: dict[bytes, tuple[str, Any]] = {}
    async for key in redis.scan_iter(count=500):
        name = key.decode(errors="replace") if isinstance(key, bytes) else str(key)
        if any(fnmatch.fnmatchcase(name, p) for p in patterns):
            continue
        raw_kind = await redis.type(key)
        kind = raw_kind.decode() if isinstance(raw_kind, bytes) else str(raw_kind)
        if kind == "none":
            continue  # expired between SCAN and TYPE
        found[key] = (kind, await _value(redis, key, kind))
    return dict(sorted(found.items()))


async def table_rows(db: asyncpg.Pool) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every application table (all but schema_migrations), in a fixed order."""
    async with db.acquire() as conn:
        names = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'schema_migrations' ORDER BY tablename"
        )
        tables: dict[str, list[tuple[Any, ...]]] = {}
        for row in names:
            name = row["tablename"]
            rows = await conn.fetch(f'SELECT * FROM "{name}"')
            tables[name] = sorted((tuple(r.items()) for r in rows), key=repr)
    return tables


async def snapshot(
    db: asyncpg.Pool | None, redis: aioredis.Redis | None, ignore_keys: Iterable[str] = ()
) -> Snapshot:
    """Values of both stores (either may be None: not snapshotted)."""
    keys = await redis_values(redis, ignore_keys) if redis is not None else {}
    tables = await table_rows(db) if db is not None else {}
    return Snapshot(keys, tables)


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


def differences(before: Snapshot, after: Snapshot) -> list[str]:
    """One readable line per added, removed or changed key, and per added or removed row."""
    lines: list[str] = []
    for key in sorted(before.keys.keys() | after.keys.keys()):
        old, new = before.keys.get(key), after.keys.get(key)
        if old == new:
            continue
        if old is None:
            lines.append(f"redis key added: {key!r} = {_short(new)}")
        elif new is None:
            lines.append(f"redis key removed: {key!r} (was {_short(old)})")
        else:
            lines.append(f"redis key changed: {key!r}: {_short(old)} -> {_short(new)}")
    for table in sorted(before.tables.keys() | after.tables.keys()):
        old_rows, new_rows = before.tables.get(table, []), after.tables.get(table, [])
        if old_rows == new_rows:
            continue
        for row in new_rows:
            if row not in old_rows:
                lines.append(f"row added to {table}: {_short(dict(row))}")
        for row in old_rows:
            if row not in new_rows:
                lines.append(f"row removed from {table}: {_short(dict(row))}")
    return lines


def assert_unchanged(before: Snapshot, after: Snapshot, context: object = "") -> None:
    """Fail, listing every difference, if any key's value or any row changed."""
    lines = differences(before, after)
    where = f" ({context})" if context != "" else ""
    assert not lines, f"the stores changed{where}:\n" + "\n".join(lines)

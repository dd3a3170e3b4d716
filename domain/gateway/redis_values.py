"""Values read back from redis-py, whose replies are typed loosely (bytes, str or None)."""

from __future__ import annotations

from typing import Any


def as_text(value: object) -> str:
    """A reply value as text."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode()
    if value is None:
        raise ValueError("unexpected empty reply from Redis")
    return str(value)


def stream_entries(reply: Any) -> list[tuple[str, dict[str, str]]]:
    """XRANGE/XREVRANGE replies as (id, fields) with text keys and values."""
    entries: list[tuple[str, dict[str, str]]] = []
    for entry_id, fields in reply or ():
        decoded = {as_text(k): as_text(v) for k, v in (fields or {}).items()}
        entries.append((as_text(entry_id), decoded))
    return entries

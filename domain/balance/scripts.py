"""The Lua scripts that make every money change atomic, registered once and run by EVALSHA."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions
from redis.commands.core import AsyncScript

from domain.errors import DomainError, ErrorCode, Unavailable

OPERATIONS = (
    "ensure_account",
    "credit",
    "debit",
    "reserve",
    "commit_reservation",
    "release_reservation",
    "expire_reservations",
    "create_pot",
    "record_contribution",
    "settle_pot",
    "cancel_pot",
)

# Returns the time the scripts should use in ms, or None for the Redis server's own clock.
Clock = Callable[[], int | None]

REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def server_clock() -> int | None:
    """Use Redis TIME: one clock for every instance of the service."""
    return None


def script_source(operation: str) -> str:
    """The full script of `operation`: SHA-256, the shared library, then the operation."""
    package = resources.files("domain.balance") / "lua"
    parts = [(package / name).read_text() for name in ("sha256.lua", "lib.lua")]
    parts.append((package / f"{operation}.lua").read_text())
    return "\n".join(parts)


def fingerprint(operation: str, args: list[str]) -> str:
    """Identifies a request, so one idempotency key cannot be reused for another."""
    return hashlib.sha256("\x1f".join([operation, *args]).encode()).hexdigest()


@dataclass(frozen=True)
class ScriptAnswer:
    """A script's decoded answer and whether it came from the idempotency record."""

    body: dict[str, Any]
    replayed: bool


class BalanceScripts:
    """Runs the balance scripts against one Redis; failures become `DomainError`s."""

    def __init__(self, redis: aioredis.Redis, clock: Clock = server_clock) -> None:
        self.redis = redis
        self.clock = clock
        self._scripts: dict[str, AsyncScript] = {
            op: redis.register_script(script_source(op)) for op in OPERATIONS
        }

    def with_clock(self, clock: Clock) -> BalanceScripts:
        """The same registered scripts on the same Redis, timed by `clock`."""
        copy = object.__new__(BalanceScripts)
        copy.redis, copy.clock, copy._scripts = self.redis, clock, self._scripts
        return copy

    async def load(self) -> None:
        """SCRIPT LOAD every script now, so the first requests need no reload round trip."""
        try:
            for script in self._scripts.values():
                await self.redis.script_load(script.script)
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc

    async def run(
        self, operation: str, args: list[str], *, idempotency_key: str = ""
    ) -> ScriptAnswer:
        """Run `operation` with its own `args`; raise the business failure it answers with."""
        now = self.clock()
        head = [
            "" if now is None else str(now),
            idempotency_key,
            fingerprint(operation, args) if idempotency_key else "",
            uuid.uuid4().hex,
        ]
        try:
            flag, raw = await self._scripts[operation](args=head + args)
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        body: dict[str, Any] = json.loads(raw)
        if not body.get("ok"):
            raise DomainError(
                str(body.get("detail", "")),
                code=ErrorCode(body.get("code", ErrorCode.INTERNAL)),
                replayed=int(flag) == 1,
            )
        return ScriptAnswer(body, int(flag) == 1)


def as_list(value: Any) -> list[Any]:
    """A JSON array from cjson, which writes an empty array as {}."""
    return list(value) if isinstance(value, list) else []


def text(value: bytes | str) -> str:
    """A Redis reply as str (the client answers bytes unless told to decode)."""
    return value.decode() if isinstance(value, bytes) else value

"""The Lua scripts that make every money change atomic, registered once and run by EVALSHA."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Generic, TypeVar

import redis.asyncio as aioredis
import redis.exceptions
from redis.commands.core import AsyncScript

from domain.balance.pipelining import ScriptCall, ScriptPipeline
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

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

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


@dataclass(frozen=True)
class ScriptRequest:
    """One operation to run: its name, its own arguments and its idempotency key."""

    operation: str
    args: list[str]
    idempotency_key: str = ""


@dataclass(frozen=True)
class Prepared(Generic[T_co]):
    """A checked request and how its script's answer becomes the caller's result."""

    request: ScriptRequest
    finish: Callable[[ScriptAnswer], T_co]


class BalanceScripts:
    """Runs the balance scripts against one Redis; failures become `DomainError`s.

    Calls go through one `ScriptPipeline`, so calls made at the same time share round trips.
    """

    def __init__(self, redis: aioredis.Redis, clock: Clock = server_clock) -> None:
        self.redis = redis
        self.clock = clock
        self._scripts: dict[str, AsyncScript] = {
            op: redis.register_script(script_source(op)) for op in OPERATIONS
        }
        self.pipeline = ScriptPipeline(redis, list(self._scripts.values()))

    def with_clock(self, clock: Clock) -> BalanceScripts:
        """The same registered scripts and pipeline on the same Redis, timed by `clock`."""
        copy = object.__new__(BalanceScripts)
        copy.redis, copy.clock, copy._scripts = self.redis, clock, self._scripts
        copy.pipeline = self.pipeline
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
        return await self._run_one(ScriptRequest(operation, args, idempotency_key))

    async def run_in_order(
        self, requests: Sequence[ScriptRequest]
    ) -> list[ScriptAnswer | DomainError]:
        """Run `requests` one after another in one round trip; each answers or fails alone.

        Raises `Unavailable` only if Redis cannot be reached at all: then none of them is known
        to have run, and their idempotency keys make the retry safe.
        """
        calls = [self._call(request) for request in requests]
        self.pipeline.submit(calls)
        replies = await asyncio.gather(*(call.reply for call in calls), return_exceptions=True)
        outcomes: list[ScriptAnswer | DomainError] = []
        for reply in replies:
            if isinstance(reply, REDIS_DOWN):
                raise Unavailable(f"Redis is unreachable: {reply}") from reply
            if isinstance(reply, BaseException):
                raise reply
            try:
                outcomes.append(_answer(reply))
            except DomainError as err:
                outcomes.append(err)
        return outcomes

    async def perform(self, prepared: Prepared[T]) -> T:
        """Run one prepared operation; its result, or the failure it answers with raised."""
        return prepared.finish(await self._run_one(prepared.request))

    async def perform_in_order(
        self, steps: Sequence[Prepared[Any] | DomainError]
    ) -> list[Any | DomainError]:
        """Run the prepared steps in order in one round trip; a refused step stays refused.

        Each step answers alone: one step's failure neither stops nor undoes the others.
        """
        ready = [step for step in steps if isinstance(step, Prepared)]
        outcomes = iter(await self.run_in_order([step.request for step in ready]))
        results: list[Any | DomainError] = []
        for step in steps:
            if isinstance(step, DomainError):
                results.append(step)
                continue
            outcome = next(outcomes)
            results.append(outcome if isinstance(outcome, DomainError) else step.finish(outcome))
        return results

    async def _run_one(self, request: ScriptRequest) -> ScriptAnswer:
        call = self._call(request)
        self.pipeline.submit([call])
        return _answer(await _reply(call))

    def _call(self, request: ScriptRequest) -> ScriptCall:
        now = self.clock()
        key = request.idempotency_key
        head = [
            "" if now is None else str(now),
            key,
            fingerprint(request.operation, request.args) if key else "",
            uuid.uuid4().hex,
        ]
        return ScriptCall(self._scripts[request.operation], head + request.args)


async def _reply(call: ScriptCall) -> Any:
    try:
        return await call.reply
    except REDIS_DOWN as exc:
        raise Unavailable(f"Redis is unreachable: {exc}") from exc


def _answer(reply: Any) -> ScriptAnswer:
    """The script's `{flag, json}` as an answer, or its business failure raised."""
    flag, raw = reply
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

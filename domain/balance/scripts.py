"""The Lua scripts that make every money change atomic, registered once and run by EVALSHA."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any, TypeVar

import redis.exceptions
from redis.commands.core import AsyncScript

from domain.balance import keys, script_keys
from domain.balance.chain_hints import ChainHints
from domain.balance.outbox import delivery_request
from domain.balance.pipelining import ScriptCall, ScriptPipeline
from domain.balance.replies import KeysMoved, answer_of, as_list, decode_reply
from domain.balance.requests import Prepared, ScriptAnswer, ScriptRequest
from domain.balance.slots import SlotDirectory
from domain.errors import DomainError, Unavailable
from infra.redis import RedisClient

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
    "contribute_out",
    "deliver_credit",
    "deliver_contribution",
    "find_holder",
)

# Returns the time the scripts should use in ms, or None for the Redis server's own clock.
Clock = Callable[[], int | None]

T = TypeVar("T")

# Redis cannot answer now: down, slow, or (on a cluster) a slot without a serving master while
# a replica takes over, or a node still starting that answers read-only or "try again". A
# call that fails so may or may not have run; its idempotency key makes the retry safe.
REDIS_DOWN = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ClusterError,
    redis.exceptions.SlotNotCoveredError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.AskError,
)
# How often a request whose accounts moved between its read and its run is read again.
REREAD_ATTEMPTS = 3


def server_clock() -> int | None:
    """Use Redis TIME: one clock for every instance of the service.

    A change whose ledger entry is computed ahead (chain_hints.py) is timed by this process's
    clock instead: its line carries the time, so the script must use that one.
    """
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


class BalanceScripts:
    """Runs the balance scripts against one Redis; failures become `DomainError`s.

    Calls go through one `ScriptPipeline`, so calls made at the same time share round trips.
    """

    def __init__(self, redis: RedisClient, clock: Clock = server_clock) -> None:
        self.redis = redis
        self.clock = clock
        self._scripts: dict[str, AsyncScript] = {
            op: redis.register_script(script_source(op)) for op in OPERATIONS
        }
        self.pipeline = ScriptPipeline(redis, list(self._scripts.values()))
        self.hints = ChainHints()
        self.slots = SlotDirectory(redis)

    def with_clock(self, clock: Clock) -> BalanceScripts:
        """The same registered scripts, pipeline and heads on the same Redis, timed by `clock`."""
        copy = object.__new__(BalanceScripts)
        copy.redis, copy.clock, copy._scripts = self.redis, clock, self._scripts
        copy.pipeline, copy.hints, copy.slots = self.pipeline, self.hints, self.slots
        return copy

    async def load(self) -> None:
        """SCRIPT LOAD every script now, so the first requests need no reload round trip."""
        try:
            for script in self._scripts.values():
                await self.redis.script_load(script.script)
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc

    async def run(self, request: ScriptRequest) -> ScriptAnswer:
        """Run one request; raise the business failure it answers with."""
        return await self._run_one(request)

    async def run_in_order(
        self, requests: Sequence[ScriptRequest]
    ) -> list[ScriptAnswer | DomainError]:
        """Run `requests` one after another in one round trip; each answers or fails alone.

        Raises `Unavailable` only if Redis cannot be reached at all: then none of them is known
        to have run, and their idempotency keys make the retry safe.
        """
        await self._list(requests)
        calls = [self._call(request) for request in requests]
        self.pipeline.submit(calls)
        replies = await asyncio.gather(*(call.reply for call in calls), return_exceptions=True)
        outcomes: list[ScriptAnswer | DomainError] = []
        for request, call, reply in zip(requests, calls, replies, strict=True):
            self._learn(call, reply)
            if isinstance(reply, REDIS_DOWN):
                raise Unavailable(f"Redis is unreachable: {reply}") from reply
            if isinstance(reply, BaseException):
                raise reply
            try:
                outcomes.append(await self._complete(request, reply))
            except DomainError as err:
                outcomes.append(err)
        return outcomes

    async def perform(self, prepared: Prepared[T]) -> T:
        """Run one prepared operation; its result, or the failure it answers with raised."""
        for _ in range(REREAD_ATTEMPTS - 1):
            try:
                return prepared.finish(await self._run_one(prepared.request))
            except KeysMoved:
                if prepared.reread is None:
                    raise
                prepared = await prepared.reread()
        return prepared.finish(await self._run_one(prepared.request))

    async def perform_in_order(
        self, steps: Sequence[Prepared[Any] | DomainError]
    ) -> list[Any | DomainError]:
        """Run the prepared steps in order in one round trip; a refused step stays refused.

        Each step answers alone: one step's failure neither stops nor undoes the others. A step
        whose accounts moved before it ran (it changed nothing) is read again and run right
        after the others.
        """
        ready = [step for step in steps if isinstance(step, Prepared)]
        outcomes = iter(await self.run_in_order([step.request for step in ready]))
        results: list[Any | DomainError] = []
        for step in steps:
            if isinstance(step, DomainError):
                results.append(step)
                continue
            outcome = next(outcomes)
            if isinstance(outcome, KeysMoved) and step.reread is not None:
                try:
                    results.append(await self.perform(await step.reread()))
                except DomainError as err:
                    results.append(err)
            elif isinstance(outcome, DomainError):
                results.append(outcome)
            else:
                results.append(step.finish(outcome))
        return results

    async def _run_one(self, request: ScriptRequest) -> ScriptAnswer:
        await self._list([request])
        call = self._call(request)
        self.pipeline.submit([call])
        try:
            reply = await call.reply
        except BaseException as exc:
            self._learn(call, exc)
            if isinstance(exc, REDIS_DOWN):
                raise Unavailable(f"Redis is unreachable: {exc}") from exc
            raise
        self._learn(call, reply)
        return await self._complete(request, reply)

    async def _list(self, requests: Sequence[ScriptRequest]) -> None:
        try:
            await self.slots.ensure(request.tag for request in requests)
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc

    async def _complete(self, request: ScriptRequest, reply: Any) -> ScriptAnswer:
        """The answer to `reply`, after delivering what it owes to other slots."""
        flag, body = decode_reply(reply)
        delivered: tuple[dict[str, Any], ...] = ()
        if flag in (0, 1) and body.get("owed"):
            delivered = tuple(await self.deliver(request.tag, as_list(body["owed"])))
        return answer_of(flag, body, delivered)

    async def deliver(self, tag: str, owed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Deliver credits owed by home `tag`'s slot, each once, then take them out of its outbox.

        Their answers, in order. A credit whose delivery is refused (a pot closed meanwhile)
        owes its chips back, and that refund is delivered too. If Redis fails midway, what is
        left stays in the outboxes for `deliver_stragglers`.
        """
        answers = []
        for credit in owed:
            request = delivery_request(credit)
            await self._list([request])
            call = self._call(request)
            self.pipeline.submit([call])
            try:
                reply = await call.reply
            except REDIS_DOWN as exc:
                raise Unavailable(f"Redis is unreachable: {exc}") from exc
            self._learn(call, reply)
            _, body = decode_reply(reply)
            if body.get("owed"):
                await self.deliver(request.tag, as_list(body["owed"]))
            answers.append(body)
        try:
            await self.redis.hdel(keys.outbox(tag), *(str(c["id"]) for c in owed))
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        return answers

    def _call(self, request: ScriptRequest) -> ScriptCall:
        now = self.clock()
        key = request.idempotency_key
        base = uuid.uuid4().hex
        all_keys, tail = script_keys.frame(
            request.tag, key, request.keys, base, request.transactions
        )
        when = "" if now is None else str(now)
        entry = None
        if request.expected is not None:
            # The entry's line carries its time: the script must use the same one.
            at = int(time.time() * 1000) if now is None else now
            entry = self.hints.entry(request.expected, f"{base}-1", at)
            if entry is not None:
                when = f"{at}\n{entry}"
        head = [
            when,
            key,
            fingerprint(request.operation, request.args) if key else "",
            base,
            str(tail),
            " ".join(request.accounts) + (f"|{' '.join(request.remote)}" if request.remote else ""),
        ]
        return ScriptCall(
            self._scripts[request.operation],
            all_keys,
            head + request.args,
            expected=request.expected,
            hinted=entry is not None,
        )

    def _learn(self, call: ScriptCall, reply: Any) -> None:
        """Take the heads a fresh answer reports; forget a foreseen change that did not apply."""
        expected = call.expected
        changed: set[str] = set()
        if isinstance(reply, list) and len(reply) == 4 and int(reply[0]) == 0:
            heads = reply[2].decode() if isinstance(reply[2], bytes) else str(reply[2])
            changed = self.hints.learn(heads, used=int(reply[3]), hinted=int(call.hinted))
        if expected is not None and expected.account_id not in changed:
            self.hints.forget(expected.account_id)

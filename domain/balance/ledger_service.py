"""Reading and verifying ledgers, incrementally from a checkpoint per account."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from prometheus_client import Counter

from domain.balance import keys
from domain.balance.ledger import GENESIS, ChainBreak, ChainState, LedgerEntry, verify_entries
from domain.balance.replies import text
from domain.balance.scripts import REDIS_DOWN
from domain.balance.slots import account_page
from domain.balance.validation import MAX_LEDGER_SEQ, require_id
from domain.errors import NotFound, Unavailable, ValidationFailed
from infra.redis import RedisClient

log = logging.getLogger(__name__)

ENTRIES_VERIFIED = Counter(
    "saga_balance_ledger_entries_verified_total", "Ledger entries whose checksum was verified"
)
CHAINS_VERIFIED = Counter(
    "saga_balance_ledger_chains_verified_total",
    "Account ledger chains verified, by result: valid or broken (valid over all: integrity)",
    ["result"],
)
CORRUPTIONS = Counter(
    "saga_balance_ledger_corruptions_total",
    "Ledger chains found broken by verification (an alert: this should stay at zero)",
)

_CHUNK = 5_000
_SNAPSHOT_ROUNDS = 3


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying one account's chain."""

    account_id: str
    valid: bool
    entries_checked: int
    head_seq: int
    head_checksum: str
    first_bad_seq: int = 0
    reason: str = ""


class LedgerService:
    """The ledger chains of one Redis."""

    def __init__(self, redis: RedisClient) -> None:
        self.redis = redis

    async def entries(
        self, account_id: str, from_seq: int = 1, limit: int = 100
    ) -> list[LedgerEntry]:
        """Up to `limit` entries from sequence `from_seq` on."""
        require_id(account_id)
        if not 1 <= from_seq <= MAX_LEDGER_SEQ or not 1 <= limit <= 1000:
            raise ValidationFailed(
                f"from_seq must be between 1 and {MAX_LEDGER_SEQ} and limit between 1 and 1000"
            )
        try:
            if not await self.redis.exists(keys.account(account_id)):
                raise NotFound(f"account {account_id} does not exist")
            raws = await self.redis.lrange(
                keys.ledger(account_id), from_seq - 1, from_seq + limit - 2
            )
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        return [LedgerEntry.parse(text(raw)) for raw in raws]

    async def account_page(self, cursor: int = 0, count: int = 500) -> tuple[int, list[str]]:
        """One page of account ids and the cursor of the next (0 when done)."""
        try:
            return await account_page(self.redis, cursor, count)
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc

    async def verify(self, account_id: str, *, incremental: bool = False) -> Verification:
        """Verify the chain (from the last checkpoint if `incremental`) and its head and balances.

        A broken chain is an alert: a metric, an error log line naming the first bad entry.
        """
        require_id(account_id)
        try:
            result = await self._verify(account_id, incremental)
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        CHAINS_VERIFIED.labels("valid" if result.valid else "broken").inc()
        if not result.valid:
            CORRUPTIONS.inc()
            log.error(
                "ledger corruption: account %s entry %d: %s",
                account_id,
                result.first_bad_seq,
                result.reason,
                extra={"account_id": account_id, "first_bad_seq": result.first_bad_seq},
            )
        return result

    async def _verify(self, account_id: str, incremental: bool) -> Verification:
        state = ChainState()
        if incremental:
            raw = await self.redis.get(keys.ledger_checkpoint(account_id))
            if raw is not None and ChainState.decode(text(raw)).seq > 0:
                state = ChainState.decode(text(raw))
                # The checkpointed entry itself must still be the one that was verified.
                last = await self.redis.lindex(keys.ledger(account_id), state.seq - 1)
                if last is None or not text(last).endswith("|" + state.checksum):
                    return self._broken(
                        account_id, 0, state, ChainBreak(state.seq, "checkpointed entry changed")
                    )
        start_seq = state.seq
        for _ in range(_SNAPSHOT_ROUNDS):
            state, broken = await self._walk(account_id, state)
            if broken is not None:
                return self._broken(account_id, state.seq - start_seq, state, broken)
            length, head, figures = await self._snapshot(account_id)
            if length != state.seq:
                continue  # entries were appended meanwhile: verify them too
            if (head or GENESIS) != state.checksum:
                return self._broken(
                    account_id,
                    state.seq - start_seq,
                    state,
                    ChainBreak(state.seq, "latest checksum does not match the chain"),
                )
            if figures is not None and figures != (state.balance, state.reserved):
                return self._broken(
                    account_id,
                    state.seq - start_seq,
                    state,
                    ChainBreak(state.seq, "account balances do not match the ledger"),
                )
            break
        if incremental:
            await self.redis.set(keys.ledger_checkpoint(account_id), state.encode())
        return Verification(account_id, True, state.seq - start_seq, state.seq, state.checksum)

    async def _walk(
        self, account_id: str, state: ChainState
    ) -> tuple[ChainState, ChainBreak | None]:
        while True:
            raws = await self.redis.lrange(
                keys.ledger(account_id), state.seq, state.seq + _CHUNK - 1
            )
            if not raws:
                return state, None
            before = state.seq
            state, broken = verify_entries(account_id, state, [text(r) for r in raws])
            ENTRIES_VERIFIED.inc(state.seq - before)
            if broken is not None:
                return state, broken

    async def _snapshot(self, account_id: str) -> tuple[int, str | None, tuple[int, int] | None]:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.llen(keys.ledger(account_id))
            pipe.get(keys.ledger_head(account_id))
            pipe.hmget(keys.account(account_id), ["balance", "reserved"])
            length, head, (balance, reserved) = await pipe.execute()
        figures = None if balance is None else (int(balance), int(reserved))
        return int(length), None if head is None else text(head), figures

    @staticmethod
    def _broken(
        account_id: str, checked: int, state: ChainState, broken: ChainBreak
    ) -> Verification:
        return Verification(
            account_id, False, checked, state.seq, state.checksum, broken.seq, broken.reason
        )

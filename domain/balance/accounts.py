"""Accounts: open, read, credit and debit; each change is one atomic script."""

from __future__ import annotations

import json

from domain.balance import keys, script_keys
from domain.balance.chain_hints import ExpectedEntry
from domain.balance.commands import Credit, Debit
from domain.balance.events import BalanceChanges
from domain.balance.replies import text
from domain.balance.requests import Prepared, ScriptAnswer, ScriptRequest
from domain.balance.scripts import REDIS_DOWN, BalanceScripts
from domain.balance.types import (
    CREDIT_SOURCES,
    DEBIT_SOURCES,
    AccountBalance,
    Mutation,
    Source,
    Transaction,
    parse_source,
)
from domain.balance.validation import (
    require_amount,
    require_id,
    require_idempotency_key,
    require_reference,
    version_arg,
)
from domain.errors import NotFound, Unavailable, ValidationFailed
from infra.redis import RedisClient

MAX_PAGE = 500


class AccountService:
    """Balances of accounts, with the last known figures served while Redis is down."""

    def __init__(
        self, scripts: BalanceScripts, redis: RedisClient, changes: BalanceChanges
    ) -> None:
        self.scripts = scripts
        self.redis = redis
        self.changes = changes

    async def ensure(self, account_id: str) -> tuple[AccountBalance, bool]:
        """Open the account with zero chips unless it exists; the account and whether it is new."""
        account_id = require_id(account_id)
        request = ScriptRequest(
            "ensure_account",
            [account_id],
            keys.home(account_id),
            keys=script_keys.for_ensure_account(account_id),
            accounts=[account_id],
        )
        answer = await self.scripts.run(request)
        account = AccountBalance.from_json(answer.body["account"])
        self.changes.seen(account)
        return account, bool(answer.body["created"])

    async def get_balance(self, account_id: str) -> AccountBalance:
        """The account's figures; from this process's cache, marked stale, if Redis is down."""
        require_id(account_id)
        try:
            values = await self.redis.hmget(
                keys.account(account_id), ["balance", "reserved", "version"]
            )
        except REDIS_DOWN as exc:
            cached = self.changes.cache.stale(account_id)
            if cached is None:
                raise Unavailable(f"Redis is unreachable and {account_id} is not cached") from exc
            return cached
        balance, reserved, version = values
        if balance is None or reserved is None or version is None:
            raise NotFound(f"account {account_id} does not exist")
        account = AccountBalance(account_id, int(balance), int(reserved), int(version))
        self.changes.seen(account)
        return account

    async def credit(self, command: Credit) -> Mutation:
        """Add chips (see `Credit`)."""
        return await self.scripts.perform(await self.prepare_credit(command))

    async def prepare_credit(self, command: Credit) -> Prepared[Mutation]:
        """A checked credit, to run alone or in a batch."""
        chosen = parse_source(command.source, Source.DEPOSIT, CREDIT_SOURCES)
        account_id = require_id(command.account_id)
        args = [
            account_id,
            str(require_amount(command.amount)),
            chosen.value,
            version_arg(command.expected_version),
            require_reference(command.reference),
            "1" if command.open_account else "0",
        ]
        own = script_keys.for_credit(account_id)
        entry = ExpectedEntry(account_id, "CREDIT", chosen.value, command.amount)
        return self._prepared("credit", entry, args, command.idempotency_key, own)

    async def debit(self, command: Debit) -> Mutation:
        """Take chips from the available balance (see `Debit`)."""
        return await self.scripts.perform(await self.prepare_debit(command))

    async def prepare_debit(self, command: Debit) -> Prepared[Mutation]:
        """A checked debit, to run alone or in a batch."""
        chosen = parse_source(command.source, Source.WITHDRAWAL, DEBIT_SOURCES)
        account_id = require_id(command.account_id)
        args = [
            account_id,
            str(require_amount(command.amount)),
            chosen.value,
            version_arg(command.expected_version),
            require_reference(command.reference),
        ]
        own = script_keys.for_debit(account_id)
        entry = ExpectedEntry(account_id, "DEBIT", chosen.value, -command.amount)
        return self._prepared("debit", entry, args, command.idempotency_key, own)

    async def transactions(self, account_id: str, limit: int = 50) -> list[Transaction]:
        """The account's newest transactions first."""
        require_id(account_id)
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}")
        try:
            if not await self.redis.exists(keys.account(account_id)):
                raise NotFound(f"account {account_id} does not exist")
            ids = await self.redis.lrange(keys.account_transactions(account_id), -limit, -1)
            if not ids:
                return []
            tag = keys.home(account_id)
            raws = await self.redis.mget([keys.transaction(tag, text(i)) for i in reversed(ids)])
        except REDIS_DOWN as exc:
            raise Unavailable(f"Redis is unreachable: {exc}") from exc
        return [Transaction.from_json(json.loads(raw)) for raw in raws if raw is not None]

    def _prepared(
        self,
        operation: str,
        entry: ExpectedEntry,
        args: list[str],
        idempotency_key: str,
        own: list[str],
    ) -> Prepared[Mutation]:
        request = ScriptRequest(
            operation,
            args,
            keys.home(entry.account_id),
            require_idempotency_key(idempotency_key),
            keys=own,
            accounts=[entry.account_id],
            transactions=1,
            expected=entry,
        )
        return Prepared(request, self._mutation)

    def _mutation(self, answer: ScriptAnswer) -> Mutation:
        account = AccountBalance.from_json(answer.body["account"])
        transaction = Transaction.from_json(answer.body["transaction"])
        if answer.replayed:
            self.changes.seen(account)
        else:
            self.changes.applied(account, transaction.source, transaction.amount)
        return Mutation(account, transaction, answer.replayed)

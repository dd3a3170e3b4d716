"""After the faults: no chip lost or made, every chain verifies, every key applied once.

Balances and logs are read from Valkey itself; only ledger verification goes through the
service (VerifyLedger), because re-deriving the checksums is its job.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from domain.balance import keys
from domain.balance.replies import text
from domain.balance.slots import supply_report
from infra.redis import RedisClient
from protos.balance.v1 import balance_pb2 as pb
from saga.proof.balance import SEED_CHIPS, BalanceLoad
from saga.proof.checks import Check, check

_BATCH = 500


@dataclass(frozen=True)
class AccountFacts:
    """One account as Valkey holds it after the run."""

    account_id: str
    balance: int
    reserved: int
    transactions: list[dict[str, object]]
    ledger_length: int
    verified: bool
    verify_reason: str


async def gather_accounts(redis: RedisClient, load: BalanceLoad) -> list[AccountFacts]:
    """Balances, transaction logs, ledger lengths and VerifyLedger of the run's accounts."""
    facts = []
    metadata = (("authorization", f"Bearer {load.token}"),)
    for account_id in load.account_ids:
        balance, reserved = await redis.hmget(keys.account(account_id), ["balance", "reserved"])
        tx_ids = await redis.lrange(keys.account_transactions(account_id), 0, -1)
        transactions: list[dict[str, object]] = []
        for start in range(0, len(tx_ids), _BATCH):
            batch = [
                keys.transaction(keys.home(account_id), text(t))
                for t in tx_ids[start : start + _BATCH]
            ]
            transactions += [json.loads(raw) for raw in await redis.mget(batch) if raw]
        verified = await load.stub.VerifyLedger(
            pb.VerifyLedgerRequest(account_id=account_id), metadata=metadata, timeout=30
        )
        facts.append(
            AccountFacts(
                account_id,
                int(balance or 0),
                int(reserved or 0),
                transactions,
                int(await redis.llen(keys.ledger(account_id))),
                verified.valid,
                verified.reason,
            )
        )
    return facts


async def economy_supply(redis: RedisClient) -> tuple[int, int]:
    """The supply counter the scripts keep, and what every account, open pot and credit owed
    between slots (taken from one account, not yet delivered to the other) holds."""
    report = await supply_report(redis)
    return report.counted, report.held + report.in_flight


def chips_lost(load: BalanceLoad, accounts: list[AccountFacts]) -> int:
    """Acknowledged chips minus what the accounts hold: 0 unless a write was lost or doubled."""
    expected = sum(load.expected[a.account_id] for a in accounts)
    return expected - sum(a.balance for a in accounts)


def check_balances(
    load: BalanceLoad, accounts: list[AccountFacts], supply: tuple[int, int]
) -> list[Check]:
    """Every balance invariant of the proof."""
    figures, chains, once = [], [], []
    for account in accounts:
        expected = load.expected[account.account_id]
        if (account.balance, account.reserved) != (expected, 0) or account.balance < 0:
            figures.append(
                f"{account.account_id}: balance {account.balance} reserved {account.reserved}, "
                f"acknowledged calls make {expected} reserved 0"
            )
        if not account.verified or account.ledger_length != len(account.transactions):
            chains.append(
                f"{account.account_id}: verified={account.verified} {account.verify_reason} "
                f"({account.ledger_length} entries, {len(account.transactions)} transactions)"
            )
        once += _applied_once(load, account)
    counter, held = supply
    seeded = SEED_CHIPS * len(accounts)
    return [
        check(
            "every balance call answered under its key",
            load.acknowledged + len(load.refused),
            [f"{p.kind} {p.request.idempotency_key} unanswered" for p in load.unresolved]
            + load.violations,
        ),
        check("no negative balance; each equals its acknowledged calls", len(accounts), figures),
        check(
            f"chips conserved ({seeded} seeded + credits - debits - commits)",
            len(accounts),
            [f"{chips_lost(load, accounts)} chips lost"] if chips_lost(load, accounts) else [],
        ),
        check(
            "economy supply equals every balance and pot",
            1,
            [f"supply counter {counter}, held {held}"] if counter != held else [],
        ),
        check("every ledger chain verifies", len(accounts), chains),
        check(
            "every idempotency key applied once",
            len(load.applied) + len(load.refused),
            once,
        ),
    ]


def _applied_once(load: BalanceLoad, account: AccountFacts) -> list[str]:
    seen = Counter(str(t.get("idempotency_key", "")) for t in account.transactions)
    seen.pop("", None)  # expiry sweeps carry no key
    offenders = [f"{key} applied {n} times" for key, n in seen.items() if n > 1]
    for key, account_id in load.applied.items():
        if account_id == account.account_id and seen[key] != 1 and _moves_chips(key):
            offenders.append(f"{key} acknowledged but applied {seen[key]} times")
    for key in load.refused:
        if seen.get(key):
            offenders.append(f"{key} refused but applied {seen[key]} times")
    return offenders


def _moves_chips(key: str) -> bool:
    """Every keyed call but opening an account writes exactly one transaction."""
    return "-open-" not in key

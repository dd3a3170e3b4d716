"""Ledger entries computed ahead by the service, so Valkey need not run SHA-256 in Lua.

Every money change appends a ledger line chained by SHA-256 (lua/lib.lua `record`). Valkey's
Lua has no SHA-256, and the pure-Lua one is about half of what Valkey spends on a credit. So
for a change to one account whose outcome the service can foresee (credit, debit, reserve),
the service builds the line the script will build, from the account's head as its last answer
left it, hashes it, and sends the entry along. The script uses the checksum only if the line
it builds itself is byte for byte that line; otherwise (the head moved, another instance
wrote, the guess was wrong) it hashes the line as before. A wrong guess costs Valkey the hash,
never the chain: what is written is exactly what the script would have written alone, and
ledger verification recomputes every checksum anyway.

The heads come from the scripts' answers: each applied change reports its account's ledger
sequence number, balance, reserved and new checksum. A guess counts on its own change going
through, so the next change to the account is foreseen from it while it is in flight; a call
that applies nothing forgets that guess, and the next answer sets the head right.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from prometheus_client import Counter

from domain.balance.ledger import ChainState, entry_checksum

HINTED_ENTRIES = Counter(
    "saga_balance_ledger_entries_hinted_total",
    "Ledger entries the service computed ahead, by whether the script could use them",
    ["used"],
)
HEADS_KEPT = 100_000


@dataclass(frozen=True)
class ExpectedEntry:
    """The one ledger entry a single-account change will write if it goes through."""

    account_id: str
    type: str
    source: str
    delta: int
    reserved_delta: int = 0


def ledger_line(
    seq: int,
    account_id: str,
    transaction_id: str,
    entry: ExpectedEntry,
    balance: int,
    reserved: int,
    at_ms: int,
    previous: str,
) -> str:
    """The canonical line, as lib.lua's `record` writes it (without its checksum)."""
    return "|".join(
        [
            str(seq),
            account_id,
            transaction_id,
            entry.type,
            entry.source,
            str(entry.delta),
            str(entry.reserved_delta),
            str(balance),
            str(reserved),
            str(at_ms),
            previous,
        ]
    )


class ChainHints:
    """The heads this process last saw, and the entries foreseen from them."""

    def __init__(self, kept: int = HEADS_KEPT) -> None:
        self._kept = kept
        self._heads: OrderedDict[str, ChainState] = OrderedDict()
        # Heads as they will be once the changes in flight go through.
        self._foreseen: dict[str, ChainState] = {}

    def entry(self, expected: ExpectedEntry, transaction_id: str, at_ms: int) -> str | None:
        """The entry (line, `|`, checksum) the change will append, or None if unknown."""
        account = expected.account_id
        head = self._foreseen.get(account) or self._heads.get(account)
        if head is None:
            return None
        balance = head.balance + expected.delta
        reserved = head.reserved + expected.reserved_delta
        seq = head.seq + 1
        line = ledger_line(
            seq, account, transaction_id, expected, balance, reserved, at_ms, head.checksum
        )
        checksum = entry_checksum(line)
        self._foreseen[account] = ChainState(seq, checksum, balance, reserved)
        return f"{line}|{checksum}"

    def learn(self, chain: str, used: int = 0, hinted: int = 0) -> set[str]:
        """Take the heads a script reported (`account|seq|balance|reserved|checksum` lines).

        `hinted` entries were sent with the call and the script could use `used` of them.
        Returns the accounts it reported.
        """
        learned: set[str] = set()
        for row in chain.split("\n"):
            if not row:
                continue
            account, seq, balance, reserved, checksum = row.rsplit("|", 4)
            head = ChainState(int(seq), checksum, int(balance), int(reserved))
            self._heads[account] = head
            self._heads.move_to_end(account)
            learned.add(account)
            foreseen = self._foreseen.get(account)
            if foreseen is not None and foreseen.seq <= head.seq:
                del self._foreseen[account]
        while len(self._heads) > self._kept:
            self._heads.popitem(last=False)
        if hinted:
            HINTED_ENTRIES.labels("yes").inc(used)
            HINTED_ENTRIES.labels("no").inc(max(0, hinted - used))
        return learned

    def forget(self, account_id: str) -> None:
        """A change foreseen for the account did not go through: guess from its head again."""
        self._foreseen.pop(account_id, None)

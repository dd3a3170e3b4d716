"""The per-account ledger: entries chained by SHA-256, parsed and verified here.

A stored entry is its canonical line followed by `|checksum`, where the canonical line is
`seq|account|transaction|type|source|amount|reserved_delta|balance_after|reserved_after|at|prev`
and checksum = SHA-256(canonical line), so it covers the entry and the previous checksum.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

GENESIS = "0" * 64
_FIELDS = 11


@dataclass(frozen=True)
class LedgerEntry:
    """One link of an account's chain."""

    seq: int
    account_id: str
    transaction_id: str
    type: str
    source: str
    amount: int
    reserved_delta: int
    balance_after: int
    reserved_after: int
    at_ms: int
    previous_checksum: str
    checksum: str

    @classmethod
    def parse(cls, raw: str) -> LedgerEntry:
        """From the stored line; ValueError if it is not one."""
        fields = raw.split("|")
        if len(fields) != _FIELDS + 1:
            raise ValueError(f"a ledger entry has {_FIELDS + 1} fields, this one {len(fields)}")
        return cls(
            int(fields[0]),
            fields[1],
            fields[2],
            fields[3],
            fields[4],
            int(fields[5]),
            int(fields[6]),
            int(fields[7]),
            int(fields[8]),
            int(fields[9]),
            fields[10],
            fields[11],
        )


def entry_checksum(canonical: str) -> str:
    """SHA-256 of the canonical line (which ends with the previous checksum), in hex."""
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ChainState:
    """Where verification of a chain stands: after `seq` entries, with these running figures."""

    seq: int = 0
    checksum: str = GENESIS
    balance: int = 0
    reserved: int = 0

    def encode(self) -> str:
        """As stored in a checkpoint."""
        return f"{self.seq}|{self.checksum}|{self.balance}|{self.reserved}"

    @classmethod
    def decode(cls, raw: str) -> ChainState:
        """From a stored checkpoint."""
        seq, checksum, balance, reserved = raw.split("|")
        return cls(int(seq), checksum, int(balance), int(reserved))


@dataclass(frozen=True)
class ChainBreak:
    """The first entry that does not verify, and why."""

    seq: int
    reason: str


def verify_entries(
    account_id: str, state: ChainState, raw_entries: list[str]
) -> tuple[ChainState, ChainBreak | None]:
    """Continue verifying from `state` over the next entries; stop at the first bad one.

    Checks each entry's checksum, its link to the previous checksum, its sequence, its account
    and that its balances follow from the previous ones by its amounts.
    """
    seq, checksum, balance, reserved = state.seq, state.checksum, state.balance, state.reserved
    sha256 = hashlib.sha256
    for raw in raw_entries:
        expected_seq = seq + 1
        canonical, _, stored = raw.rpartition("|")
        fields = canonical.split("|")
        if len(fields) != _FIELDS or not stored:
            return _state(seq, checksum, balance, reserved), ChainBreak(expected_seq, "malformed")
        if fields[0] != str(expected_seq):
            return _state(seq, checksum, balance, reserved), ChainBreak(
                expected_seq, f"sequence {fields[0]} where {expected_seq} was expected"
            )
        if fields[10] != checksum:
            return _state(seq, checksum, balance, reserved), ChainBreak(
                expected_seq, "does not link to the previous checksum"
            )
        if sha256(canonical.encode()).hexdigest() != stored:
            return _state(seq, checksum, balance, reserved), ChainBreak(
                expected_seq, "checksum does not match the entry"
            )
        try:
            balance_after, reserved_after = int(fields[7]), int(fields[8])
            moved_ok = (
                fields[1] == account_id
                and balance + int(fields[5]) == balance_after
                and reserved + int(fields[6]) == reserved_after
            )
        except ValueError:
            moved_ok = False
        if not moved_ok or balance_after < reserved_after or reserved_after < 0:
            return _state(seq, checksum, balance, reserved), ChainBreak(
                expected_seq, "balances do not follow from the previous entry"
            )
        seq, checksum, balance, reserved = expected_seq, stored, balance_after, reserved_after
    return _state(seq, checksum, balance, reserved), None


def _state(seq: int, checksum: str, balance: int, reserved: int) -> ChainState:
    return ChainState(seq, checksum, balance, reserved)

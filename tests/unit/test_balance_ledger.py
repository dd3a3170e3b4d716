"""Chain verification: every kind of tampering is found at the first bad entry."""

from __future__ import annotations

import hashlib

import pytest

from domain.balance.ledger import GENESIS, ChainState, LedgerEntry, entry_checksum, verify_entries


def chain(deltas: list[int], account: str = "alice") -> list[str]:
    """A valid chain of credits and debits, as the scripts store it."""
    lines, previous, balance = [], GENESIS, 0
    for seq, delta in enumerate(deltas, start=1):
        balance += delta
        kind = "CREDIT" if delta > 0 else "DEBIT"
        canonical = (
            f"{seq}|{account}|tx-{seq}|{kind}|DEPOSIT|{delta}|0|{balance}|0|{1000 + seq}|{previous}"
        )
        previous = hashlib.sha256(canonical.encode()).hexdigest()
        lines.append(f"{canonical}|{previous}")
    return lines


def test_a_valid_chain_verifies_and_ends_at_its_head() -> None:
    lines = chain([100, -30, 5])
    state, broken = verify_entries("alice", ChainState(), lines)
    assert broken is None
    assert (state.seq, state.balance, state.reserved) == (3, 75, 0)
    assert state.checksum == lines[-1].rsplit("|", 1)[1]


def test_verification_resumes_from_a_checkpoint() -> None:
    lines = chain([100, -30, 5, 7])
    middle, _ = verify_entries("alice", ChainState(), lines[:2])
    resumed = ChainState.decode(middle.encode())
    state, broken = verify_entries("alice", resumed, lines[2:])
    assert broken is None
    assert state.seq == 4
    assert state.balance == 82


def _tamper_amount(lines: list[str], index: int) -> None:
    fields = lines[index].split("|")
    fields[5] = str(int(fields[5]) + 1)
    lines[index] = "|".join(fields)


def _tamper_rehashed(lines: list[str], index: int) -> None:
    # The forger recomputes this entry's checksum: the next entry's link no longer matches.
    canonical = lines[index].rsplit("|", 1)[0].split("|")
    canonical[5] = str(int(canonical[5]) + 1)
    canonical[7] = str(int(canonical[7]) + 1)
    body = "|".join(canonical)
    lines[index] = f"{body}|{entry_checksum(body)}"


def _drop(lines: list[str], index: int) -> None:
    del lines[index]


@pytest.mark.parametrize(
    ("tamper", "index", "first_bad", "reason"),
    [
        (_tamper_amount, 1, 2, "checksum does not match"),
        (_tamper_rehashed, 1, 3, "does not link"),
        (_drop, 1, 2, "sequence"),
    ],
)
def test_tampering_is_found_at_the_first_bad_entry(
    tamper: object, index: int, first_bad: int, reason: str
) -> None:
    lines = chain([100, -30, 5, 7])
    tamper(lines, index)  # type: ignore[operator]
    state, broken = verify_entries("alice", ChainState(), lines)
    assert broken is not None
    assert broken.seq == first_bad
    assert reason in broken.reason
    assert state.seq == first_bad - 1


def test_balances_that_do_not_follow_are_found_even_with_good_checksums() -> None:
    canonical = f"1|alice|tx-1|CREDIT|DEPOSIT|100|0|150|0|1|{GENESIS}"
    line = f"{canonical}|{entry_checksum(canonical)}"
    _, broken = verify_entries("alice", ChainState(), [line])
    assert broken is not None
    assert "balances" in broken.reason


def test_entries_of_another_account_and_malformed_lines_are_refused() -> None:
    _, broken = verify_entries("bob", ChainState(), chain([100]))
    assert broken is not None
    _, malformed = verify_entries("alice", ChainState(), ["garbage"])
    assert malformed is not None
    assert malformed.reason == "malformed"


def test_entries_parse_into_fields() -> None:
    entry = LedgerEntry.parse(chain([100])[0])
    assert (entry.seq, entry.amount, entry.balance_after, entry.previous_checksum) == (
        1,
        100,
        100,
        GENESIS,
    )
    with pytest.raises(ValueError, match="fields"):
        LedgerEntry.parse("1|2")

"""Ids, amounts, keys, sources: checked before anything reaches Redis."""

from __future__ import annotations

import pytest

from domain.balance.types import CREDIT_SOURCES, AccountBalance, Source, parse_source
from domain.balance.validation import (
    MAX_AMOUNT,
    require_amount,
    require_id,
    require_idempotency_key,
    require_reference,
    require_ttl,
    version_arg,
)
from domain.errors import ErrorCode, ValidationFailed


@pytest.mark.parametrize("good", ["alice", "user_7", "A-b_9", "x" * 64])
def test_safe_ids_pass(good: str) -> None:
    assert require_id(good) == good


@pytest.mark.parametrize("bad", ["", "*", "a*", "a{b}", "a:b", "a b", "x" * 65, "é", "a\n"])
def test_ids_that_could_forge_keys_are_refused(bad: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        require_id(bad)
    assert caught.value.code is ErrorCode.VALIDATION_FAILED


@pytest.mark.parametrize("bad", [0, -1, MAX_AMOUNT + 1, 1.5, True, "10"])
def test_amounts_must_be_positive_bounded_ints(bad: object) -> None:
    with pytest.raises(ValidationFailed):
        require_amount(bad)  # type: ignore[arg-type]


def test_amount_bounds_and_zero_when_allowed() -> None:
    assert require_amount(1) == 1
    assert require_amount(MAX_AMOUNT) == MAX_AMOUNT
    assert require_amount(0, allow_zero=True) == 0


def test_idempotency_key_required_and_shaped() -> None:
    with pytest.raises(ValidationFailed) as missing:
        require_idempotency_key("")
    assert missing.value.code is ErrorCode.IDEMPOTENCY_KEY_REQUIRED
    assert require_idempotency_key("buy-in:t1:u1:1712345678901") == "buy-in:t1:u1:1712345678901"
    for bad in ("a}b", "a b", "*", "k" * 201):
        with pytest.raises(ValidationFailed) as caught:
            require_idempotency_key(bad)
        assert caught.value.code is ErrorCode.VALIDATION_FAILED


def test_ttl_versions_and_references() -> None:
    assert require_ttl(1) == 1
    for bad_ttl in (0, 86_401, True):
        with pytest.raises(ValidationFailed):
            require_ttl(bad_ttl)
    assert version_arg(None) == ""
    assert version_arg(3) == "3"
    with pytest.raises(ValidationFailed):
        version_arg(-1)
    assert require_reference("table-1") == "table-1"
    for bad in ("a|b", "x" * 129, "a{b"):
        with pytest.raises(ValidationFailed):
            require_reference(bad)


def test_sources_default_and_refuse_the_wrong_direction() -> None:
    assert parse_source("", Source.DEPOSIT, CREDIT_SOURCES) is Source.DEPOSIT
    assert parse_source("CASH_OUT", Source.DEPOSIT, CREDIT_SOURCES) is Source.CASH_OUT
    with pytest.raises(ValidationFailed):
        parse_source("WITHDRAWAL", Source.DEPOSIT, CREDIT_SOURCES)
    with pytest.raises(ValidationFailed):
        parse_source("FREE_MONEY", Source.DEPOSIT, CREDIT_SOURCES)


def test_available_is_balance_minus_reserved() -> None:
    account = AccountBalance("a", 100, 30, 4)
    assert account.available == 70
    assert account.to_json()["available"] == 70

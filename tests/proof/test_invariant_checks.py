"""The proof's invariant checks catch what they claim to: fed facts with one flaw each."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus

from domain.orders.models import order_id_for
from saga.proof.balance import SEED_CHIPS, BalanceLoad
from saga.proof.balance_checks import AccountFacts, check_balances, chips_lost
from saga.proof.checkout import OrderLoad, Submission
from saga.proof.checkout_checks import OrderFacts, check_orders

LEDGER = str(uuid.uuid4())
ORDER = str(order_id_for(uuid.UUID(LEDGER)))
FAILED_LEDGER = str(uuid.uuid4())
COMPLETED = WorkflowExecutionStatus.COMPLETED


def _load() -> OrderLoad:
    load = OrderLoad("http://edge", "http://inventory", "token", 1.0, random.Random(0))
    load.initial_stock = {"p": 10}
    for key, ledger in (("k1", LEDGER), ("k2", FAILED_LEDGER)):
        load.submissions.append(Submission(key, {}, 202, {"order_ledger_id": ledger}, attempts=1))
    return load


def _facts() -> OrderFacts:
    return OrderFacts(
        ledger={
            "k1": {"id": LEDGER, "status": "CONFIRMED", "authorization_id": "a1"},
            "k2": {"id": FAILED_LEDGER, "status": "FAILED", "authorization_id": "a2"},
        },
        items={LEDGER: [{"product_id": "p", "quantity": 2}]},
        orders={LEDGER: [{"status": "CONFIRMED"}], FAILED_LEDGER: [{"status": "CANCELLED"}]},
        reservations={ORDER: [{"product_id": "p", "quantity": 2, "status": "RESERVED"}]},
        authorizations={"a1": "CAPTURED", "a2": "VOIDED"},
        operations=Counter({("a1", "capture", "captured"): 1, ("a2", "void", "voided"): 1}),
        products={"p": {"stock_on_hand": 10, "stock_reserved": 2}},
        workflows={f"order-{LEDGER}": [COMPLETED], f"order-{FAILED_LEDGER}": [COMPLETED]},
    )


def _failed_checks(facts: OrderFacts, load: OrderLoad | None = None) -> list[str]:
    return [c.name for c in check_orders(load or _load(), facts) if not c.passed]


def test_consistent_orders_pass() -> None:
    assert _failed_checks(_facts()) == []


@pytest.mark.parametrize(
    ("flaw", "caught_by"),
    [
        ({"operations": Counter({("a1", "capture", "captured"): 2})}, "captured or voided twice"),
        ({"authorizations": {"a1": "CAPTURED", "a2": "AUTHORIZED"}}, "every compensation done"),
        ({"products": {"p": {"stock_on_hand": 10, "stock_reserved": 4}}}, "stock conserved"),
        ({"reservations": {}}, "order, stock and capture"),
        ({"workflows": {f"order-{LEDGER}": [COMPLETED, COMPLETED]}}, "one saga per"),
        (
            {"ledger": {"k2": {"id": FAILED_LEDGER, "status": "FAILED", "authorization_id": "a2"}}},
            "none lost",
        ),
        (
            {
                "ledger": {
                    **_facts().ledger,
                    "k1": {**_facts().ledger["k1"], "status": "ORDER_CREATED"},
                }
            },
            "none stuck",
        ),
        ({"orders": {LEDGER: [{"status": "CONFIRMED"}] * 2}}, "one order row per ledger"),
    ],
)
def test_each_flaw_is_caught(flaw: dict[str, Any], caught_by: str) -> None:
    failed = _failed_checks(replace(_facts(), **flaw))
    assert any(caught_by in name for name in failed), failed


def test_an_unanswered_order_is_caught() -> None:
    load = _load()
    load.submissions.append(Submission("k3", {}, attempts=9))
    assert _failed_checks(_facts(), load) == ["every order answered (202 or 402) under its key"]


def _balance() -> tuple[BalanceLoad, list[AccountFacts]]:
    load = BalanceLoad("127.0.0.1:1", "token", random.Random(0), accounts=1)
    account = load.account_ids[0]
    load.expected[account] = SEED_CHIPS + 5
    load.applied = {"seed": account, "credit-1": account}
    load.ops = Counter({"credit": 2})
    transactions: list[dict[str, object]] = [
        {"idempotency_key": "seed", "amount": SEED_CHIPS},
        {"idempotency_key": "credit-1", "amount": 5},
    ]
    facts = AccountFacts(account, SEED_CHIPS + 5, 0, transactions, 2, True, "")
    return load, [facts]


def _failed_balance_checks(load: BalanceLoad, accounts: list[AccountFacts]) -> list[str]:
    held = sum(a.balance for a in accounts)
    return [c.name for c in check_balances(load, accounts, (held, held)) if not c.passed]


def test_consistent_balances_pass() -> None:
    assert _failed_balance_checks(*_balance()) == []


def test_a_doubled_credit_is_caught() -> None:
    load, [account] = _balance()
    doubled = replace(
        account,
        balance=account.balance + 5,
        transactions=[*account.transactions, {"idempotency_key": "credit-1", "amount": 5}],
        ledger_length=3,
    )
    failed = _failed_balance_checks(load, [doubled])
    assert chips_lost(load, [doubled]) == -5
    assert "every idempotency key applied once" in failed
    assert any(name.startswith("chips conserved") for name in failed)


def test_a_lost_write_and_a_broken_chain_are_caught() -> None:
    load, [account] = _balance()
    lost = replace(
        account,
        balance=SEED_CHIPS,
        transactions=account.transactions[:1],
        ledger_length=1,
        verified=False,
        verify_reason="checksum mismatch at 1",
    )
    failed = _failed_balance_checks(load, [lost])
    assert chips_lost(load, [lost]) == 5
    assert "every ledger chain verifies" in failed
    assert "every idempotency key applied once" in failed


DECLINED = str(uuid.uuid4())


def test_a_declined_order_that_started_a_saga_is_caught() -> None:
    facts = _facts()
    declined = {"id": DECLINED, "status": "PAYMENT_DECLINED", "authorization_id": "a3"}
    clean = replace(facts, ledger={**facts.ledger, "k3": declined})
    assert _failed_checks(clean) == []
    ordered = replace(clean, orders={**clean.orders, DECLINED: [{"status": "CREATED"}]})
    assert _failed_checks(ordered) == ["declined orders started nothing"]


def test_a_supply_counter_that_disagrees_with_the_balances_is_caught() -> None:
    load, accounts = _balance()
    held = sum(a.balance for a in accounts)
    failed = [c.name for c in check_balances(load, accounts, (held + 7, held)) if not c.passed]
    assert failed == ["economy supply equals every balance and pot"]


def test_an_unanswered_balance_call_is_caught() -> None:
    load, accounts = _balance()
    load.violations.append("credit k-9: replay answered INTERNAL")
    assert _failed_balance_checks(load, accounts) == ["every balance call answered under its key"]


def test_a_balance_off_its_acknowledged_calls_is_caught() -> None:
    load, [account] = _balance()
    # Reserved chips left behind: the balance figure is right, the reservation is not.
    stuck = replace(account, reserved=3)
    assert _failed_balance_checks(load, [stuck]) == [
        "no negative balance; each equals its acknowledged calls"
    ]


# Every invariant the proof reports, with the test above that feeds it its flaw. A check
# added to the proof without a test here fails the test below.
COVERED = {
    "every order answered (202 or 402) under its key": test_an_unanswered_order_is_caught,
    "every accepted order recorded (none lost)": test_each_flaw_is_caught,
    "every accepted order CONFIRMED or FAILED (none stuck)": test_each_flaw_is_caught,
    "one saga per accepted order, completed": test_each_flaw_is_caught,
    "one order row per ledger, one reservation per order and product": test_each_flaw_is_caught,
    "declined orders started nothing": test_a_declined_order_that_started_a_saga_is_caught,
    "confirmed orders: order, stock and capture": test_each_flaw_is_caught,
    "failed orders: every compensation done": test_each_flaw_is_caught,
    "no payment captured or voided twice": test_each_flaw_is_caught,
    "stock conserved per product": test_each_flaw_is_caught,
    "every balance call answered under its key": test_an_unanswered_balance_call_is_caught,
    "no negative balance; each equals its acknowledged calls": (
        test_a_balance_off_its_acknowledged_calls_is_caught
    ),
    "economy supply equals every balance and pot": (
        test_a_supply_counter_that_disagrees_with_the_balances_is_caught
    ),
    "every ledger chain verifies": test_a_lost_write_and_a_broken_chain_are_caught,
    "every idempotency key applied once": test_a_doubled_credit_is_caught,
}


def test_every_order_and_balance_invariant_has_a_flaw_test() -> None:
    names = {c.name for c in check_orders(_load(), _facts())}
    names |= {
        c.name if not c.name.startswith("chips conserved") else "chips conserved"
        for c in check_balances(*_balance(), (0, 0))
    }
    covered = set(COVERED) | {"chips conserved"}  # test_a_doubled_credit_is_caught
    assert names == covered

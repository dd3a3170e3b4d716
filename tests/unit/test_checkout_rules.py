"""Business rules of the order saga's contexts, in plain Python."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.common import RetryPolicy
from temporalio.testing import ActivityEnvironment

from activities.checkout import next_retry_at
from domain.checkout.models import (
    AcceptedOrder,
    OrderRequest,
    StatusChange,
    price,
    workflow_id_for,
)
from domain.errors import ErrorCode, ValidationFailed
from domain.inventory.models import (
    OutOfStock,
    StockLine,
    UnknownProduct,
    check_reservable,
    merge_lines,
)
from domain.orders.models import (
    InvalidOrderTransition,
    OrderLine,
    OrderStatus,
    order_id_for,
    transition,
)
from domain.payments.models import (
    AuthorizationStatus,
    CaptureOutcome,
    InvalidPaymentState,
    authorization_declined,
    capture_outcome,
    void_target,
)
from saga.replay import history_dir_name
from workflows.checkout.models import OrderSagaInput, SagaOptions


def test_lines_merge_per_product_in_lock_order() -> None:
    merged = merge_lines([StockLine("b", 1), StockLine("a", 2), StockLine("b", 3)])
    assert merged == [StockLine("a", 2), StockLine("b", 4)]


@pytest.mark.parametrize("lines", [[], [StockLine("a", 0)], [StockLine("a", -2)]])
def test_empty_or_non_positive_lines_are_refused(lines: list[StockLine]) -> None:
    with pytest.raises(ValidationFailed):
        merge_lines(lines)


def test_reservation_needs_known_products_with_enough_stock() -> None:
    check_reservable([StockLine("a", 3)], {"a": 3})
    with pytest.raises(OutOfStock) as short:
        check_reservable([StockLine("a", 4)], {"a": 3})
    assert short.value.fields == {"product_id": "a", "available": 3, "requested": 4}
    with pytest.raises(UnknownProduct):
        check_reservable([StockLine("z", 1)], {"a": 3})


def test_order_transitions_are_guarded_and_replays_change_nothing() -> None:
    assert transition(OrderStatus.CREATED, OrderStatus.CONFIRMED) is True
    assert transition(OrderStatus.CONFIRMED, OrderStatus.CONFIRMED) is False
    assert transition(OrderStatus.CANCELLED, OrderStatus.CANCELLED) is False
    with pytest.raises(InvalidOrderTransition) as refused:
        transition(OrderStatus.CONFIRMED, OrderStatus.CANCELLED)
    assert refused.value.code == ErrorCode.INVALID_STATE


def test_order_id_is_derived_from_the_ledger_entry() -> None:
    ledger_id = uuid.uuid4()
    assert order_id_for(ledger_id) == order_id_for(ledger_id) != order_id_for(uuid.uuid4())


def test_test_tokens_script_the_psp() -> None:
    assert authorization_declined("pm_card_declined")
    assert not authorization_declined("pm_anything_else")
    assert capture_outcome("pm_card_visa", 1) == CaptureOutcome.CAPTURE
    assert capture_outcome("pm_capture_declined", 1) == CaptureOutcome.DECLINE
    assert [capture_outcome("pm_capture_flaky", n) for n in (1, 2, 3)] == [
        CaptureOutcome.TRANSIENT_FAILURE,
        CaptureOutcome.TRANSIENT_FAILURE,
        CaptureOutcome.CAPTURE,
    ]


def test_void_voids_refunds_or_replays() -> None:
    assert void_target(AuthorizationStatus.AUTHORIZED) == AuthorizationStatus.VOIDED
    assert void_target(AuthorizationStatus.CAPTURED) == AuthorizationStatus.REFUNDED
    assert void_target(AuthorizationStatus.VOIDED) is None
    with pytest.raises(InvalidPaymentState):
        void_target(AuthorizationStatus.DECLINED)


def test_pricing_uses_the_catalog_and_refuses_unknown_products() -> None:
    lines = price([StockLine("a", 2), StockLine("a", 1)], {"a": 250})
    assert [(line.product_id, line.quantity, line.line_total_cents) for line in lines] == [
        ("a", 3, 750)
    ]
    with pytest.raises(UnknownProduct):
        price([StockLine("b", 1)], {"a": 250})


def test_fingerprint_tells_a_replay_from_another_request() -> None:
    request = OrderRequest("c", [StockLine("a", 1)], "pm_card_visa", "USD")
    same = OrderRequest("c", [StockLine("a", 1)], "pm_card_visa", "USD")
    other = dataclasses.replace(request, lines=[StockLine("a", 2)])
    assert request.fingerprint() == same.fingerprint() != other.fingerprint()


def test_outbox_rows_of_every_edge_read_as_the_accepted_order() -> None:
    # As PostgreSQL's jsonb hands back a row the edge wrote before the payload had a type.
    stored = (
        '{"items": [{"quantity": 2, "product_id": "widget", "unit_price_cents": 1250}], '
        '"currency": "USD", "customer_id": "cust-1", "total_cents": 2500, '
        '"order_ledger_id": "L1", "authorization_id": "auth_1"}'
    )
    order = AcceptedOrder.from_json(stored)
    assert order == AcceptedOrder(
        "L1", "cust-1", [OrderLine("widget", 2, 1250)], 2500, "USD", "auth_1"
    )
    assert json.loads(order.to_json()) == json.loads(stored)
    saga = OrderSagaInput.of(order, SagaOptions(retry_maximum_attempts=2))
    assert saga.items == order.items
    assert saga.options.retry_maximum_attempts == 2


def test_status_change_payload_matches_the_realtime_contract() -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    change = StatusChange("L1", "cust-9", "CONFIRMED", None, at)
    assert change.channel == "user:cust-9"
    assert change.payload() == {
        "kind": "order.status",
        "order_ledger_id": "L1",
        "status": "CONFIRMED",
        "failure_reason": None,
        "at": at.isoformat(),
    }
    assert workflow_id_for("L1") == "order-L1"


@pytest.mark.parametrize(("attempt", "seconds"), [(1, 1), (2, 4), (3, 16), (4, 64), (5, None)])
def test_next_retry_at_follows_the_policy_it_is_given(attempt: int, seconds: int | None) -> None:
    # The saga's own policy is read from its history in test_checkout_retry_policy.py.
    policy = RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=4,
        maximum_interval=timedelta(seconds=64),
        maximum_attempts=5,
    )
    info = dataclasses.replace(
        ActivityEnvironment.default_info(), attempt=attempt, retry_policy=policy
    )
    before = datetime.now(UTC)
    due = next_retry_at(info)
    if seconds is None:
        assert due is None
    else:
        assert due is not None
        assert timedelta(seconds=seconds) <= due - before < timedelta(seconds=seconds + 1)


def test_history_directories_are_named_after_the_workflow() -> None:
    assert history_dir_name("OrderSagaWorkflow") == "order_saga"
    assert history_dir_name("ReservationExpiryWorkflow") == "reservation_expiry"

"""Orders through a real `saga up`: HTTP in, CONFIRMED or compensated to FAILED, UI-searchable."""

from __future__ import annotations

import subprocess
import time
import uuid
from typing import Any

import httpx
import pytest

from saga.stack.temporal import temporal_cli
from tests.e2e.conftest import PlatformProcess

pytestmark = pytest.mark.e2e


def _wait_final(
    edge: str, ledger_id: str, auth: dict[str, str], timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view: dict[str, Any] = httpx.get(f"{edge}/orders/{ledger_id}", headers=auth).json()
        if view["status"] in ("CONFIRMED", "FAILED") or time.monotonic() > deadline:
            return view
        time.sleep(0.2)


def _order(edge: str, product_id: str, payment_method: str, auth: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{edge}/orders",
        json={
            "customer_id": "e2e-customer",
            "items": [{"product_id": product_id, "quantity": 1}],
            "payment_method": payment_method,
            "currency": "USD",
        },
        headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
        timeout=10,
    )


def test_orders_confirm_or_compensate_through_saga_up(platform: PlatformProcess) -> None:
    inventory = platform.url("inventory_port")
    edge = platform.url("edge_port")
    product_id = f"e2e-{uuid.uuid4().hex[:8]}"
    auth = platform.service_auth()
    anonymous = httpx.post(f"{edge}/orders", json={}, headers={"Idempotency-Key": "k"})
    assert anonymous.status_code == 401, anonymous.text
    created = httpx.post(
        f"{inventory}/inventory/products",
        json={"product_id": product_id, "name": "E2E", "price_cents": 700, "initial_stock": 5},
        headers=auth,
    )
    assert created.status_code == 201, created.text

    good = _order(edge, product_id, "pm_card_visa", auth)
    bad = _order(edge, product_id, "pm_capture_declined", auth)
    assert good.status_code == bad.status_code == 202

    confirmed = _wait_final(edge, good.json()["order_ledger_id"], auth)
    failed = _wait_final(edge, bad.json()["order_ledger_id"], auth)

    assert confirmed["status"] == "CONFIRMED", confirmed
    assert failed["status"] == "FAILED", failed
    assert failed["failure_reason"].startswith("CAPTURE_DECLINED")
    assert [s["step"] for s in failed["steps"] if s["outcome"] == "compensated"] == [
        "release_inventory",
        "cancel_order",
        "void_payment",
    ]
    availability = httpx.get(f"{inventory}/inventory/products/{product_id}/availability").json()
    assert availability["available"] == 4

    _assert_searchable(platform, 'OrderStatus="FAILED" AND CustomerId="e2e-customer"')
    seeded = platform.saga("seed", "--orders", "10")
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    assert "accepted" in seeded.stdout
    assert f"127.0.0.1:{platform.env['TEMPORAL_UI_PORT']}/namespaces/default/workflows" in (
        seeded.stdout
    )
    exported = platform.saga("replay", "--directory", str(platform.home / "histories"))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert "exported" in exported.stdout
    assert list((platform.home / "histories" / "order_saga").glob("*.json"))


def _assert_searchable(platform: PlatformProcess, query: str) -> None:
    """The Temporal UI's search finds the saga (the same visibility query the CLI runs)."""
    address = f"127.0.0.1:{platform.env['TEMPORAL_PORT']}"
    deadline = time.monotonic() + 20
    while True:
        listed = subprocess.run(
            [temporal_cli(), "workflow", "list", "--query", query, "--address", address],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if "OrderSagaWorkflow" in listed.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "OrderSagaWorkflow" in listed.stdout, listed.stdout + listed.stderr

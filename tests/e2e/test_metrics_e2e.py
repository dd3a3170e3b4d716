"""Every process of a real `saga up` serves /metrics with the series the dashboard is built on."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from clients.balance import BalanceClient
from protos.balance.v1 import balance_pb2 as pb
from tests.e2e.conftest import PlatformProcess

pytestmark = pytest.mark.e2e

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy/grafana/dashboards/saga.json"

Labels = Mapping[str, str]
# (process's port setting, series, labels it must carry): each one seen with a value above 0.
EXPECTED: list[tuple[str, str, Labels]] = [
    ("edge_port", "saga_http_request_seconds_count", {"service": "edge", "route": "/orders"}),
    ("orders_port", "saga_http_request_seconds_count", {"service": "orders"}),
    ("inventory_port", "saga_http_request_seconds_count", {"service": "inventory"}),
    ("payments_port", "saga_http_request_seconds_count", {"service": "payments"}),
    ("relay_port", "saga_outbox_published_total", {}),
    ("relay_port", "saga_outbox_lag_seconds_count", {}),
    ("relay_port", "saga_http_request_seconds_count", {"service": "relay"}),
    ("worker_metrics_port", "saga_order_outcomes_total", {"status": "CONFIRMED"}),
    (
        "worker_metrics_port",
        "saga_order_outcomes_total",
        {"status": "FAILED", "reason": "CAPTURE_DECLINED"},
    ),
    ("worker_metrics_port", "saga_activity_retries_total", {"activity_type": "capture_payment"}),
    ("worker_metrics_port", "saga_balance_reservations_closed_total", {"outcome": "expired"}),
    ("worker_metrics_port", "temporal_workflow_completed_total", {}),
    ("worker_metrics_port", "saga_http_request_seconds_count", {"service": "worker"}),
    ("balance_http_port", "saga_balance_grpc_request_seconds_count", {"method": "Reserve"}),
    ("balance_http_port", "saga_balance_http_request_seconds_count", {}),
    ("balance_http_port", "saga_http_request_seconds_count", {"service": "balance"}),
    ("balance_http_port", "saga_balance_reservations_closed_total", {"outcome": "committed"}),
    ("balance_http_port", "saga_balance_reservations_closed_total", {"outcome": "released"}),
    ("balance_http_port", "saga_balance_ledger_chains_verified_total", {"result": "valid"}),
    ("balance_http_port", "saga_balance_chip_sources_total", {"source": "DEPOSIT"}),
    ("gateway_port", "saga_gateway_connections_total", {}),
    ("gateway_port", "saga_gateway_messages_in_total", {"type": "ping"}),
    ("gateway_port", "saga_gateway_proxy_latency_seconds_count", {"service": "edge"}),
    ("gateway_port", "saga_http_request_seconds_count", {"service": "gateway"}),
]


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def _temporal_series_queried() -> set[str]:
    """The Temporal SDK series the dashboard queries (their names come from the SDK at run time)."""
    queried: set[str] = set()
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        for target in panel.get("targets", []):
            queried |= set(re.findall(r"\btemporal_[a-z0-9_]+", target["expr"]))
    return queried


def _missing(scraped: dict[str, str]) -> list[str]:
    missing = [
        f"worker_metrics_port: {name} (queried by the dashboard)"
        for name in sorted(_temporal_series_queried())
        if not re.search(rf"^{name}[{{ ]", scraped["worker_metrics_port"], re.MULTILINE)
    ]
    for port, name, labels in EXPECTED:
        samples = _samples(scraped[port])
        if not any(
            sample == name and value > 0 and all(got.get(k) == v for k, v in labels.items())
            for sample, got, value in samples
        ):
            missing.append(f"{port}: {name}{dict(labels)}")
    return missing


async def _orders(platform: PlatformProcess, http: httpx.AsyncClient) -> None:
    """A confirmed, a retried and a compensated order, through the gateway's proxy."""
    auth = platform.service_auth()
    product_id = f"metrics-{uuid.uuid4().hex[:8]}"
    created = await http.post(
        platform.url("inventory_port", "/inventory/products"),
        json={"product_id": product_id, "name": "M", "price_cents": 300, "initial_stock": 9},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    for method in ("pm_card_visa", "pm_capture_flaky", "pm_capture_declined"):
        answer = await http.post(
            platform.url("gateway_port", "/api/edge/orders"),
            json={
                "customer_id": "metrics-customer",
                "items": [{"product_id": product_id, "quantity": 1}],
                "payment_method": method,
                "currency": "USD",
            },
            headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert answer.status_code == 202, answer.text
    listed = await http.get(platform.url("orders_port", "/orders/" + str(uuid.uuid4())))
    assert listed.status_code in (401, 404), listed.text


async def _chips(platform: PlatformProcess, http: httpx.AsyncClient) -> None:
    """Reservations committed, released and left to expire; a ledger verified."""
    token = platform.service_auth("metrics")["Authorization"].removeprefix("Bearer ")
    account = f"metrics-{uuid.uuid4().hex[:8]}"
    address = f"127.0.0.1:{platform.env['BALANCE_GRPC_PORT']}"
    async with BalanceClient(address, token) as balance:
        await balance.credit(
            pb.CreditRequest(account_id=account, amount=100, idempotency_key=account)
        )
        held = []
        for key, ttl in (("commit", 60), ("release", 60), ("expire", 1)):
            reply = await balance.reserve(
                pb.ReserveRequest(
                    account_id=account, amount=10, idempotency_key=account + key, ttl_seconds=ttl
                )
            )
            held.append(reply.reservation.reservation_id)
        await balance.commit(
            pb.CommitReservationRequest(reservation_id=held[0], idempotency_key=account + "k")
        )
        await balance.release(
            pb.ReleaseReservationRequest(reservation_id=held[1], idempotency_key=account + "r")
        )
        verified = await balance.call(
            balance.stub.VerifyLedger, pb.VerifyLedgerRequest(account_id=account)
        )
        assert verified.valid
    read = await http.get(
        platform.url("balance_http_port", f"/api/accounts/{account}/balance"),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert read.status_code == 200, read.text


async def _player(platform: PlatformProcess) -> None:
    """One player connects to the gateway and pings."""
    issued = platform.saga("token", "--user", f"metrics-{uuid.uuid4().hex[:6]}")
    assert issued.returncode == 0, issued.stderr
    ws_url = platform.url("gateway_port").replace("http://", "ws://")
    async with connect(f"{ws_url}/ws?token={issued.stdout.strip()}") as ws:
        await ws.send(json.dumps({"type": "ping"}))
        while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "pong":
            pass


async def test_each_process_exposes_its_named_series(platform: PlatformProcess) -> None:
    async with httpx.AsyncClient(timeout=15) as http:
        await asyncio.gather(_orders(platform, http), _chips(platform, http), _player(platform))
        # The retried capture takes about 5 s (1 s + 4 s backoff), the sweeper runs every 5 s.
        ports = {port for port, _, _ in EXPECTED}
        missing: list[str] = []
        for _ in range(60):
            scraped = {
                port: (await http.get(platform.url(port, "/metrics"))).text for port in ports
            }
            missing = _missing(scraped)
            if not missing:
                return
            await asyncio.sleep(0.5)
    raise AssertionError(f"series not exposed after exercising: {missing}")

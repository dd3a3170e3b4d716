"""`saga seed`: a catalog and a mix of orders through the edge, then links into the Temporal UI."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import httpx
from rich.console import Console
from rich.progress import Progress, TaskID

from apis.auth import service_headers
from infra.settings import PlatformSettings
from saga.supervisor import STATE_FILE

CATALOG = [
    ("sku-widget", "Widget", 1250, 500),
    ("sku-gadget", "Gadget", 4999, 200),
    ("sku-gizmo", "Gizmo", 899, 1000),
    ("sku-limited", "Limited edition", 19900, 3),
]
# (payment method, weight): mostly good cards, plus every scripted failure.
MIX = [
    ("pm_card_visa", 70),
    ("pm_card_declined", 8),
    ("pm_capture_declined", 8),
    ("pm_capture_flaky", 8),
    ("out_of_stock", 6),
]


@dataclass
class SeedReport:
    """What the seed submitted and how the edge answered."""

    accepted: list[str]
    declined: list[str]
    errors: list[str]


def temporal_ui_url(settings: PlatformSettings) -> str:
    """The Web UI of the running `saga up`, or the default port on this host."""
    state = settings.saga_home.resolve() / STATE_FILE
    if state.exists():
        ui = json.loads(state.read_text()).get("endpoints", {}).get("TEMPORAL_UI")
        if ui:
            return str(ui).rstrip("/")
    return f"http://{settings.bind_host}:{settings.temporal_ui_port}"


async def seed(settings: PlatformSettings, count: int, console: Console) -> SeedReport:
    """Create the catalog (idempotent), then submit `count` orders with a progress bar."""
    rng = random.Random(count)
    report = SeedReport([], [], [])
    inventory = settings.service_url("inventory")
    edge = settings.service_url("edge")
    # A service token: the seed creates products and orders for many customers.
    auth = service_headers(settings.jwt_secret, "saga-seed")
    async with httpx.AsyncClient(timeout=30, headers=auth) as http:
        for product_id, name, price, stock in CATALOG:
            response = await http.post(
                f"{inventory}/inventory/products",
                json={
                    "product_id": product_id,
                    "name": name,
                    "price_cents": price,
                    "initial_stock": stock,
                },
            )
            if response.status_code >= 400:
                raise httpx.HTTPStatusError(
                    f"creating {product_id}: {response.text}",
                    request=response.request,
                    response=response,
                )
        methods = [m for m, _ in MIX]
        weights = [w for _, w in MIX]
        limit = asyncio.Semaphore(8)

        async def submit(kind: str, progress: Progress, task: TaskID) -> None:
            if kind == "out_of_stock":
                items = [{"product_id": "sku-limited", "quantity": 50}]
                method = "pm_card_visa"
            else:
                product = rng.choice(CATALOG[:3])[0]
                items = [{"product_id": product, "quantity": rng.randint(1, 3)}]
                method = kind
            body = {
                "customer_id": f"customer-{rng.randint(1, 20)}",
                "items": items,
                "payment_method": method,
                "currency": "USD",
            }
            async with limit:
                response = await http.post(
                    f"{edge}/orders", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
                )
            answer = response.json()
            if response.status_code == 202:
                report.accepted.append(answer["order_ledger_id"])
            elif response.status_code == 402:
                report.declined.append(answer["order_ledger_id"])
            else:
                report.errors.append(f"{response.status_code} {answer.get('code')}")
            progress.advance(task)

        with Progress(console=console) as progress:
            task = progress.add_task("submitting orders", total=count)
            kinds = rng.choices(methods, weights, k=count)
            await asyncio.gather(*(submit(kind, progress, task) for kind in kinds))
    return report


def print_links(console: Console, ui: str, namespace: str, report: SeedReport) -> None:
    """Where to look in the Temporal UI."""
    base = f"{ui}/namespaces/{namespace}/workflows"
    console.print(
        f"[green]{len(report.accepted)} accepted[/], {len(report.declined)} declined at "
        f"authorization (402, no saga), {len(report.errors)} errors"
    )
    for label, query in [
        ("all order sagas", 'WorkflowType="OrderSagaWorkflow"'),
        ("confirmed", 'OrderStatus="CONFIRMED"'),
        ("compensated (FAILED)", 'OrderStatus="FAILED"'),
    ]:
        console.print(f"  {label}: {base}?query={quote(query)}")
    for ledger_id in report.accepted[:3]:
        console.print(f"  order {ledger_id}: {base}/order-{ledger_id}")

"""After the faults: every accepted order settled exactly once, stock and payments add up.

Everything is read from PostgreSQL (ledger, orders, inventory, the mock PSP's tables) and from
Temporal's visibility store, never from the services that were just being killed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import asyncpg
from temporalio.client import Client, WorkflowExecutionStatus

from domain.orders.models import order_id_for
from saga.proof.checkout import OrderLoad
from saga.proof.checks import Check, check

FINAL = ("CONFIRMED", "FAILED", "PAYMENT_DECLINED")
# A row as a plain dict, so checks can also be fed hand-made facts.
Row = dict[str, Any]
# PSP answers that move money; each may happen at most once per authorization.
_EFFECTS = {("capture", "captured"), ("void", "voided"), ("void", "refunded")}


@dataclass(frozen=True)
class OrderFacts:
    """What the databases say about the run's orders once they settled."""

    ledger: dict[str, Row]
    items: dict[str, list[Row]]
    orders: dict[str, list[Row]]
    reservations: dict[str, list[Row]]
    authorizations: dict[str, str]
    operations: Counter[tuple[str, str, str]]
    products: dict[str, Row]
    workflows: dict[str, list[WorkflowExecutionStatus]]

    def ledger_of(self, key: str) -> Row | None:
        """The ledger row an Idempotency-Key produced."""
        return self.ledger.get(key)


async def wait_settled(
    conn: asyncpg.Connection, temporal: Client, load: OrderLoad, timeout: float
) -> float:
    """Poll until every accepted order is final and its saga closed; the seconds it took."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    keys = [s.key for s in load.accepted()]
    while loop.time() - started < timeout:
        open_ledgers = await conn.fetchval(
            "SELECT count(*) FROM order_ledger WHERE client_request_id = ANY($1) "
            "AND status <> ALL($2::text[])",
            keys,
            list(FINAL),
        )
        if open_ledgers == 0:
            running = await temporal.count_workflows(
                "WorkflowType = 'OrderSagaWorkflow' AND ExecutionStatus = 'Running'"
            )
            if running.count == 0:
                break
        await asyncio.sleep(1.0)
    return loop.time() - started


async def gather_facts(conn: asyncpg.Connection, temporal: Client, load: OrderLoad) -> OrderFacts:
    """Read the run's rows from every table the order saga touches."""
    keys = [s.key for s in load.submissions]
    products = list(load.initial_stock)
    ledger_rows = await conn.fetch(
        "SELECT order_ledger_id::text AS id, client_request_id, status, authorization_id, "
        "failure_reason FROM order_ledger WHERE client_request_id = ANY($1)",
        keys,
    )
    ledger = {row["client_request_id"]: dict(row) for row in ledger_rows}
    ids = [row["id"] for row in ledger_rows]
    items = await conn.fetch(
        "SELECT order_ledger_id::text AS id, product_id, quantity FROM order_ledger_items "
        "WHERE order_ledger_id = ANY($1::uuid[])",
        ids,
    )
    orders = await conn.fetch(
        "SELECT order_ledger_id::text AS id, status FROM orders "
        "WHERE order_ledger_id = ANY($1::uuid[])",
        ids,
    )
    reservations = await conn.fetch(
        "SELECT order_id, product_id, quantity, status FROM inventory_reservations "
        "WHERE product_id = ANY($1)",
        products,
    )
    auth_ids = [row["authorization_id"] for row in ledger_rows if row["authorization_id"]]
    authorizations = await conn.fetch(
        "SELECT authorization_id, status FROM payment_authorizations "
        "WHERE authorization_id = ANY($1)",
        auth_ids,
    )
    operations = await conn.fetch(
        "SELECT authorization_id, operation, outcome, count(*) AS n FROM payment_operations "
        "WHERE authorization_id = ANY($1) GROUP BY 1, 2, 3",
        auth_ids,
    )
    product_rows = await conn.fetch(
        "SELECT product_id, stock_on_hand, stock_reserved FROM products WHERE product_id = ANY($1)",
        products,
    )
    workflows: dict[str, list[WorkflowExecutionStatus]] = defaultdict(list)
    async for execution in temporal.list_workflows("WorkflowType = 'OrderSagaWorkflow'"):
        if execution.status is not None:
            workflows[execution.id].append(execution.status)
    return OrderFacts(
        ledger,
        _group(items, "id"),
        _group(orders, "id"),
        _group(reservations, "order_id"),
        {row["authorization_id"]: row["status"] for row in authorizations},
        Counter(
            {
                (row["authorization_id"], row["operation"], row["outcome"]): row["n"]
                for row in operations
            }
        ),
        {row["product_id"]: dict(row) for row in product_rows},
        dict(workflows),
    )


def check_orders(load: OrderLoad, facts: OrderFacts) -> list[Check]:
    """Every order invariant of the proof, from the facts gathered after the run."""
    accepted = load.accepted()
    missing: list[str] = []
    stuck: list[str] = []
    confirmed: list[Row] = []
    failed: list[Row] = []
    for sub in accepted:
        row = facts.ledger_of(sub.key)
        if row is None or row["id"] != sub.order_ledger_id:
            missing.append(f"{sub.key} ({sub.order_ledger_id}) has no ledger entry")
        elif row["status"] not in ("CONFIRMED", "FAILED"):
            stuck.append(f"{row['id']} is {row['status']}")
        else:
            (confirmed if row["status"] == "CONFIRMED" else failed).append(row)
    declined = [r for r in facts.ledger.values() if r["status"] == "PAYMENT_DECLINED"]
    return [
        check(
            "every order answered (202 or 402) under its key",
            len(load.submissions),
            [f"{s.key} unanswered after {s.attempts} attempts" for s in load.unanswered()]
            + load.violations,
        ),
        check("every accepted order recorded (none lost)", len(accepted), missing),
        check("every accepted order CONFIRMED or FAILED (none stuck)", len(accepted), stuck),
        check("one saga per accepted order, completed", len(accepted), _sagas(facts)),
        check(
            "one order row per ledger, one reservation per order and product",
            len(facts.orders),
            _processed_once(facts),
        ),
        check("declined orders started nothing", len(declined), _declined(declined, facts)),
        check(
            "confirmed orders: order, stock and capture",
            len(confirmed),
            _confirmed(confirmed, facts),
        ),
        check("failed orders: every compensation done", len(failed), _failed(failed, facts)),
        check(
            "no payment captured or voided twice",
            len(facts.authorizations),
            _payments_once(facts),
        ),
        check("stock conserved per product", len(load.initial_stock), _stock(load, facts)),
    ]


def failure_reasons(facts: OrderFacts) -> dict[str, int]:
    """FAILED orders by the code their failure reason starts with."""
    reasons: Counter[str] = Counter()
    for row in facts.ledger.values():
        if row["status"] == "FAILED":
            reasons[(row["failure_reason"] or "UNKNOWN").split(":", 1)[0]] += 1
    return dict(reasons)


def _sagas(facts: OrderFacts) -> list[str]:
    wanted = {
        f"order-{row['id']}" for row in facts.ledger.values() if row["status"] != "PAYMENT_DECLINED"
    }
    offenders = []
    for workflow_id in sorted(wanted):
        runs = facts.workflows.get(workflow_id, [])
        if runs != [WorkflowExecutionStatus.COMPLETED]:
            offenders.append(f"{workflow_id}: {[r.name for r in runs] or 'no workflow'}")
    offenders += [f"{w}: a saga without an accepted order" for w in set(facts.workflows) - wanted]
    return offenders


def _processed_once(facts: OrderFacts) -> list[str]:
    offenders = []
    for ledger_id, rows in facts.orders.items():
        if len(rows) > 1:
            offenders.append(f"{ledger_id}: {len(rows)} order rows")
    for order_id, rows in facts.reservations.items():
        products = [r["product_id"] for r in rows]
        if len(products) != len(set(products)):
            offenders.append(f"order {order_id}: reservation rows {products}")
    return offenders


def _declined(declined: list[Row], facts: OrderFacts) -> list[str]:
    offenders = []
    for row in declined:
        if facts.orders.get(row["id"]) or f"order-{row['id']}" in facts.workflows:
            offenders.append(f"{row['id']} was declined but has an order or a saga")
    return offenders


def _confirmed(rows: list[Row], facts: OrderFacts) -> list[str]:
    offenders = []
    for row in rows:
        held = _held(facts, row["id"])
        wanted = {item["product_id"]: item["quantity"] for item in facts.items.get(row["id"], [])}
        orders = [o["status"] for o in facts.orders.get(row["id"], [])]
        if orders != ["CONFIRMED"]:
            offenders.append(f"{row['id']}: orders rows {orders}")
        if held != wanted:
            offenders.append(f"{row['id']}: holds {held}, ordered {wanted}")
        if facts.authorizations.get(row["authorization_id"]) != "CAPTURED":
            offenders.append(
                f"{row['id']}: payment {facts.authorizations.get(row['authorization_id'])}"
            )
    return offenders


def _failed(rows: list[Row], facts: OrderFacts) -> list[str]:
    offenders = []
    for row in rows:
        orders = [o["status"] for o in facts.orders.get(row["id"], [])]
        if orders not in ([], ["CANCELLED"]):
            offenders.append(f"{row['id']}: orders rows {orders}")
        if held := _held(facts, row["id"]):
            offenders.append(f"{row['id']}: still holds {held}")
        payment = facts.authorizations.get(row["authorization_id"])
        if payment not in ("VOIDED", "REFUNDED"):
            offenders.append(f"{row['id']}: authorization {payment}, not voided")
    return offenders


def _payments_once(facts: OrderFacts) -> list[str]:
    offenders = []
    for (auth, operation, outcome), n in sorted(facts.operations.items()):
        if (operation, outcome) in _EFFECTS and n > 1:
            offenders.append(f"{auth}: {operation} {outcome} {n} times")
    return offenders


def _stock(load: OrderLoad, facts: OrderFacts) -> list[str]:
    confirmed: Counter[str] = Counter()
    for entry in facts.ledger.values():
        if entry["status"] == "CONFIRMED":
            for item in facts.items.get(entry["id"], []):
                confirmed[item["product_id"]] += item["quantity"]
    reserved: Counter[str] = Counter()
    for rows in facts.reservations.values():
        for r in rows:
            if r["status"] == "RESERVED":
                reserved[r["product_id"]] += r["quantity"]
    offenders = []
    for product_id, initial in sorted(load.initial_stock.items()):
        row = facts.products.get(product_id)
        if row is None:
            offenders.append(f"{product_id} is gone")
            continue
        on_hand, held = row["stock_on_hand"], row["stock_reserved"]
        if (on_hand, held, reserved[product_id]) != (initial, confirmed[product_id], held):
            offenders.append(
                f"{product_id}: initial {initial}, on hand {on_hand}, reserved {held}, "
                f"reservation rows {reserved[product_id]}, confirmed {confirmed[product_id]}"
            )
    return offenders


def _held(facts: OrderFacts, ledger_id: str) -> dict[str, int]:
    order_id = str(order_id_for(uuid.UUID(ledger_id)))
    return {
        r["product_id"]: r["quantity"]
        for r in facts.reservations.get(order_id, [])
        if r["status"] == "RESERVED"
    }


def _group(rows: list[asyncpg.Record], key: str) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(dict(row))
    return dict(grouped)

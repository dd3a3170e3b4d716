"""The edge API: POST /orders (idempotent, authorized, outboxed) and GET /orders/{id}."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from apis.auth import Caller, install_auth, require_acting_for, service_headers
from apis.checkout.answers import PLACE_RESPONSES, render_placement
from apis.checkout.cached_read import ORDER_PATH, add_cached_read
from apis.fronts import FrontResources, create_front, resources
from apis.problems import PROBLEM_RESPONSES
from domain.checkout.ledger import LedgerRepository
from domain.checkout.models import LedgerStatus, OrderRequest
from domain.checkout.service import CheckoutService, PaymentAuthorizer
from domain.checkout.status_watch import FROM_CACHE, FROM_LEDGER, CachedView, StatusWatcher
from domain.errors import ErrorCode, ValidationFailed
from domain.inventory.models import StockLine
from domain.payments.client import PaymentsClient
from domain.validation import (
    EDGE_KEY_MAX_LENGTH,
    IDEMPOTENCY_KEY_PATTERN,
    CustomerId,
    PaymentMethod,
    ProductId,
)
from infra.settings import PlatformSettings
from infra.tokens import Claims

router = APIRouter(responses=PROBLEM_RESPONSES)
Resources = Annotated[FrontResources, Depends(resources)]


class ItemIn(BaseModel):
    """One product and how many."""

    model_config = ConfigDict(extra="forbid")

    product_id: ProductId
    quantity: int = Field(strict=True, ge=1, le=10_000)


class OrderIn(BaseModel):
    """Body of POST /orders (DESIGN.md section 5)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "alice",
                    "items": [{"product_id": "widget", "quantity": 1}],
                    "payment_method": "pm_card_visa",
                    "currency": "USD",
                }
            ]
        },
    )

    customer_id: CustomerId
    items: list[ItemIn] = Field(min_length=1, max_length=100)
    payment_method: PaymentMethod
    currency: str = Field(default="USD", pattern="^USD$")


class LineView(BaseModel):
    """One priced line of an order."""

    product_id: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


class OrderView(BaseModel):
    """What GET /orders/{order_ledger_id} shows; times are ISO 8601 strings."""

    order_ledger_id: str
    customer_id: str
    status: LedgerStatus
    total_cents: int
    currency: str
    payment_method: str
    authorization_id: str | None
    workflow_id: str | None
    order_id: str | None
    failure_reason: str | None
    retry_count: int
    next_retry_at: str | None
    steps: list[dict[str, Any]]
    created_at: str
    updated_at: str
    items: list[LineView]


async def payments(res: Resources) -> PaymentAuthorizer:
    """FastAPI dependency: the payments service, called synchronously."""
    return PaymentsClient(
        res.http,
        res.settings.service_url("payments"),
        headers=service_headers(res.settings.jwt_secret, "edge"),
    )


@router.post("/orders", status_code=202, responses=PLACE_RESPONSES)
async def place_order(
    body: OrderIn,
    claims: Caller,
    res: Resources,
    authorizer: Annotated[PaymentAuthorizer, Depends(payments)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_KEY_PATTERN,
            max_length=EDGE_KEY_MAX_LENGTH,
        ),
    ] = None,
) -> JSONResponse:
    """Price, authorize and accept an order; the saga starts from the outbox."""
    require_acting_for(claims, body.customer_id)
    if not idempotency_key:
        raise ValidationFailed(
            "the Idempotency-Key header is required", code=ErrorCode.IDEMPOTENCY_KEY_REQUIRED
        )
    request = OrderRequest(
        body.customer_id,
        [StockLine(item.product_id, item.quantity) for item in body.items],
        body.payment_method,
        body.currency,
    )
    service = CheckoutService(res.pool, authorizer, res.redis)
    return render_placement(await service.place_order(idempotency_key, request))


MAX_WAIT_SECONDS = 30


async def status_watcher(request: Request) -> StatusWatcher:
    """FastAPI dependency: the edge's one LISTEN connection for long-polls."""
    watcher: StatusWatcher = request.app.state.status_watcher
    return watcher


@router.get(ORDER_PATH, response_model=OrderView)
async def get_order(
    order_ledger_id: uuid.UUID,
    claims: Caller,
    res: Resources,
    watcher: Annotated[StatusWatcher, Depends(status_watcher)],
    wait: Annotated[
        float | None,
        Query(
            gt=0,
            le=MAX_WAIT_SECONDS,
            description="Long-poll: answer once the status differs from `seen`, or after "
            "this many seconds (0 < wait <= 30) with the current state",
        ),
    ] = None,
    seen: Annotated[
        LedgerStatus | None,
        Query(description="With `wait`: the status the client last saw (default: the current)"),
    ] = None,
) -> Response:
    """Status, items, total, each saga step, failure reason and retry state (owner or service).

    With `wait`, the answer waits until the status is no longer `seen` (committed on the
    ledger) or `wait` seconds passed; a final status equal to `seen` answers at once.
    """
    ledger_id = str(order_ledger_id)

    async def read() -> dict[str, Any]:
        async with res.pool.acquire() as conn:
            found = await LedgerRepository(conn).view(order_ledger_id)
        # Before any waiting: a stranger learns nothing, not even by the delay.
        require_acting_for(claims, found["customer_id"])
        return found

    if wait is None:
        return await _current(ledger_id, claims, read, watcher)
    view = await watcher.wait_for_change(
        ledger_id,
        read,
        lambda found: LedgerStatus(found["status"]),
        seen=seen,
        timeout=wait,
    )
    return _json_response(_body(view))


async def _current(
    ledger_id: str,
    claims: Claims,
    read: Callable[[], Awaitable[dict[str, Any]]],
    watcher: StatusWatcher,
) -> Response:
    """The order as committed: from the watcher's cache while nothing changed, else read.

    Polling clients ask for an unchanged order many times; the cache answers them without a
    database round trip, and forgets an order the moment its row changes (status_watch.py).
    """
    kept = watcher.cached(ledger_id)
    if kept is not None:
        require_acting_for(claims, kept.customer_id)
        FROM_CACHE.inc()
        return _json_response(kept.body)
    FROM_LEDGER.inc()
    listening = await watcher.start_listening()
    read_at = watcher.mark(ledger_id)
    view = await read()
    body = _body(view)
    if listening:
        watcher.keep(ledger_id, CachedView(str(view["customer_id"]), body), read_at)
    return _json_response(body)


def _body(view: dict[str, Any]) -> bytes:
    """The view as JSON, written directly: pollers ask often, and the view is built from the
    ledger's own columns, so validating it again against `OrderView` on every answer only
    costs CPU (`OrderView` still documents it in the OpenAPI spec)."""
    return json.dumps(_jsonable(view), separators=(",", ":"), ensure_ascii=False).encode()


def _json_response(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def _jsonable(view: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in view.items():
        if isinstance(value, uuid.UUID):
            out[key] = str(value)
        elif hasattr(value, "isoformat"):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def create_app(settings: PlatformSettings | None = None) -> FastAPI:
    """The edge front."""
    chosen = settings or PlatformSettings()
    app = create_front("edge", chosen, pool_size=20)
    _add_status_watcher(app, chosen.resolved_database_url)
    install_auth(app, chosen.jwt_secret)
    app.include_router(router)
    add_cached_read(app)
    return app


def _add_status_watcher(app: FastAPI, dsn: str) -> None:
    """Open the long-poll listener inside the front's lifespan; close it before the pool."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        async with inner(served):
            watcher = StatusWatcher(dsn)
            served.state.status_watcher = watcher
            try:
                yield
            finally:
                await watcher.close()

    app.router.lifespan_context = lifespan

"""The edge API: POST /orders (idempotent, authorized, outboxed) and GET /orders/{id}."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from apis.problems import PROBLEM_JSON
from apis.saga_front import FrontResources, create_front, resources
from domain.checkout.ledger import LedgerRepository
from domain.checkout.models import OrderRequest
from domain.checkout.service import CheckoutService, PaymentAuthorizer
from domain.errors import ErrorCode, ValidationFailed
from domain.inventory.models import StockLine
from domain.payments.client import PaymentsClient
from saga.settings import PlatformSettings

router = APIRouter()
Resources = Annotated[FrontResources, Depends(resources)]


class ItemIn(BaseModel):
    """One product and how many."""

    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(strict=True, ge=1, le=10_000)


class OrderIn(BaseModel):
    """Body of POST /orders (DESIGN.md section 5)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64)
    items: list[ItemIn] = Field(min_length=1, max_length=100)
    payment_method: str = Field(min_length=1, max_length=64)
    currency: str = Field(default="USD", pattern="^USD$")


def payments(res: Resources) -> PaymentAuthorizer:
    """FastAPI dependency: the payments service, called synchronously."""
    return PaymentsClient(res.http, res.settings.service_url("payments"))


@router.post("/orders", status_code=202)
async def place_order(
    body: OrderIn,
    res: Resources,
    authorizer: Annotated[PaymentAuthorizer, Depends(payments)],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> JSONResponse:
    """Price, authorize and accept an order; the saga starts from the outbox."""
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
    answer = await CheckoutService(res.pool, authorizer, res.redis).place_order(
        idempotency_key, request
    )
    headers = {"Idempotency-Replayed": "true"} if answer.replayed else {}
    media_type = PROBLEM_JSON if answer.status_code >= 400 else "application/json"
    return JSONResponse(
        answer.body, status_code=answer.status_code, headers=headers, media_type=media_type
    )


@router.get("/orders/{order_ledger_id}")
async def get_order(order_ledger_id: uuid.UUID, res: Resources) -> dict[str, Any]:
    """Status, items, total, each saga step, failure reason and retry state."""
    async with res.pool.acquire() as conn:
        view = await LedgerRepository(conn).view(order_ledger_id)
    return _jsonable(view)


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
    app = create_front("edge", settings or PlatformSettings(), pool_size=20)
    app.include_router(router)
    return app

"""Orders' HTTP front: create from a ledger entry, read, cancel and confirm."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Response
from pydantic import BaseModel, ConfigDict, Field

from apis.auth import Caller, ServiceCaller, require_acting_for, service_caller
from apis.fronts import create_front, pool
from apis.problems import PROBLEM_RESPONSES
from domain.orders.models import Order, OrderLine, OrderStatus
from domain.orders.repository import OrderRepository
from domain.validation import MAX_PRICE_CENTS, CustomerId, ProductId
from infra.settings import PlatformSettings

router = APIRouter(prefix="/orders", responses=PROBLEM_RESPONSES)
Pool = Annotated[asyncpg.Pool, Depends(pool)]


class OrderItemIn(BaseModel):
    """One priced line."""

    model_config = ConfigDict(extra="forbid")

    product_id: ProductId
    quantity: int = Field(strict=True, ge=1, le=1_000_000)
    unit_price_cents: int = Field(strict=True, ge=0, le=MAX_PRICE_CENTS)


class OrderIn(BaseModel):
    """Body of POST /orders: the ledger entry the order is created from."""

    model_config = ConfigDict(extra="forbid")

    order_ledger_id: uuid.UUID
    customer_id: CustomerId
    items: list[OrderItemIn] = Field(min_length=1, max_length=100)
    currency: str = Field(default="USD", pattern="^[A-Z]{3}$")


class OrderItemOut(BaseModel):
    """One priced line of an order."""

    product_id: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


class OrderOut(BaseModel):
    """An order with its items."""

    order_id: uuid.UUID
    order_ledger_id: uuid.UUID
    customer_id: str
    status: OrderStatus
    total_cents: int
    currency: str
    items: list[OrderItemOut]
    created_at: datetime
    updated_at: datetime


def _order(order: Order) -> OrderOut:
    return OrderOut(
        order_id=order.order_id,
        order_ledger_id=order.order_ledger_id,
        customer_id=order.customer_id,
        status=order.status,
        total_cents=order.total_cents,
        currency=order.currency,
        items=[
            OrderItemOut(
                product_id=item.product_id,
                quantity=item.quantity,
                unit_price_cents=item.unit_price_cents,
                line_total_cents=item.line_total_cents,
            )
            for item in order.items
        ],
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


_REPLAYED: dict[int | str, dict[str, Any]] = {
    200: {"model": OrderOut, "description": "The same ledger entry again: a replay"}
}


@router.post("", status_code=201, dependencies=[Depends(service_caller)], responses=_REPLAYED)
async def create_order(body: OrderIn, db: Pool, response: Response) -> OrderOut:
    """Create the order of a ledger entry; the same ledger entry again answers 200."""
    lines = [OrderLine(i.product_id, i.quantity, i.unit_price_cents) for i in body.items]
    async with db.acquire() as conn, conn.transaction():
        order, created = await OrderRepository(conn).create_from_ledger(
            body.order_ledger_id, body.customer_id, lines, body.currency
        )
    if not created:
        response.status_code = 200
    return _order(order)


@router.get("/{order_id}")
async def get_order(order_id: uuid.UUID, claims: Caller, db: Pool) -> OrderOut:
    """An order with its items (its customer or a service)."""
    async with db.acquire() as conn:
        order = await OrderRepository(conn).get(order_id)
    require_acting_for(claims, order.customer_id)
    return _order(order)


@router.put("/{order_id}/cancel")
async def cancel_order(order_id: uuid.UUID, _: ServiceCaller, db: Pool) -> OrderOut:
    """Cancel (compensation); cancelling a cancelled order answers the same."""
    return await _move(db, order_id, OrderStatus.CANCELLED)


@router.put("/{order_id}/confirm")
async def confirm_order(order_id: uuid.UUID, _: ServiceCaller, db: Pool) -> OrderOut:
    """Confirm (the saga's last step); confirming again answers the same."""
    return await _move(db, order_id, OrderStatus.CONFIRMED)


async def _move(db: asyncpg.Pool, order_id: uuid.UUID, target: OrderStatus) -> OrderOut:
    async with db.acquire() as conn, conn.transaction():
        order, _ = await OrderRepository(conn).move_to(order_id, target)
    return _order(order)


def create_app(settings: PlatformSettings | None = None) -> FastAPI:
    """The orders front."""
    chosen = settings or PlatformSettings()
    app = create_front("orders", chosen)
    app.include_router(router)
    return app

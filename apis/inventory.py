"""Inventory's HTTP front: the catalog, stock, availability and reservations."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from apis.auth import service_caller
from apis.fronts import create_front, pool
from apis.problems import PROBLEM_RESPONSES
from domain.errors import ErrorCode, ValidationFailed
from domain.inventory.models import Product, StockLine
from domain.inventory.repository import InventoryRepository
from domain.validation import (
    IDEMPOTENCY_KEY_PATTERN,
    MAX_PRICE_CENTS,
    DisplayName,
    IdempotencyKey,
    ProductId,
    ReservationOrderId,
)
from infra.settings import PlatformSettings

router = APIRouter(prefix="/inventory", responses=PROBLEM_RESPONSES)
# Reads of the catalog are open; every change of stock is for services only.
ForServices = [Depends(service_caller)]
Pool = Annotated[asyncpg.Pool, Depends(pool)]
Quantity = Annotated[int, Field(strict=True, ge=1, le=1_000_000)]


class ProductIn(BaseModel):
    """Body of POST /inventory/products."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"product_id": "widget", "name": "Widget", "price_cents": 1250, "initial_stock": 10}
            ]
        },
    )

    product_id: ProductId
    name: DisplayName
    price_cents: int = Field(strict=True, ge=0, le=MAX_PRICE_CENTS)
    initial_stock: int = Field(default=0, strict=True, ge=0, le=1_000_000)


class StockIn(BaseModel):
    """Body of POST /inventory/products/{product_id}/stock."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"quantity": 5, "idempotency_key": "restock-1"}]},
    )

    quantity: Quantity
    idempotency_key: IdempotencyKey | None = None


class LineIn(BaseModel):
    """One product and quantity to reserve."""

    model_config = ConfigDict(extra="forbid")

    product_id: ProductId
    quantity: Quantity


class ReservationIn(BaseModel):
    """Body of POST /inventory/reservations."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"order_id": "order-1", "items": [{"product_id": "widget", "quantity": 1}]}
            ]
        },
    )

    order_id: ReservationOrderId
    items: list[LineIn] = Field(min_length=1, max_length=100)


class ProductOut(BaseModel):
    """A product with its price and stock."""

    product_id: str
    name: str
    price_cents: int
    on_hand: int
    reserved: int
    available: int

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        """The answer for `product`."""
        return cls(
            product_id=product.product_id,
            name=product.name,
            price_cents=product.price_cents,
            on_hand=product.stock_on_hand,
            reserved=product.stock_reserved,
            available=product.available,
        )


class LineOut(BaseModel):
    """One product and quantity held or freed."""

    product_id: str
    quantity: int


class ReservationOut(BaseModel):
    """What an order holds."""

    order_id: str
    status: Literal["RESERVED"]
    items: list[LineOut]


class ReleaseOut(BaseModel):
    """What a release gave back (nothing when it was released before)."""

    order_id: str
    status: Literal["RELEASED"]
    released: list[LineOut]


def _lines(lines: list[StockLine]) -> list[LineOut]:
    return [LineOut(product_id=line.product_id, quantity=line.quantity) for line in lines]


_REPLAYED: dict[int | str, dict[str, Any]] = {
    200: {"model": ProductOut, "description": "The same product again: a replay"}
}


@router.get("/products")
async def list_products(db: Pool) -> list[ProductOut]:
    """The catalog with prices and stock."""
    async with db.acquire() as conn:
        return [ProductOut.of(p) for p in await InventoryRepository(conn).products()]


@router.post("/products", status_code=201, dependencies=ForServices, responses=_REPLAYED)
async def create_product(body: ProductIn, db: Pool, response: Response) -> ProductOut:
    """Create a product with optional initial stock; the same product again answers 200."""
    async with db.acquire() as conn, conn.transaction():
        product, created = await InventoryRepository(conn).create_product(
            body.product_id, body.name, body.price_cents, body.initial_stock
        )
    if not created:
        response.status_code = 200
    return ProductOut.of(product)


@router.post("/products/{product_id}/stock", dependencies=ForServices)
async def add_stock(
    product_id: ProductId,
    body: StockIn,
    db: Pool,
    response: Response,
    header_key: Annotated[
        str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN)
    ] = None,
) -> ProductOut:
    """Add units once per Idempotency-Key (header or body); a replay answers the same."""
    key = header_key or body.idempotency_key
    if not key:
        raise ValidationFailed(
            "an Idempotency-Key header is required", code=ErrorCode.IDEMPOTENCY_KEY_REQUIRED
        )
    async with db.acquire() as conn, conn.transaction():
        product, changed = await InventoryRepository(conn).add_stock(product_id, body.quantity, key)
    if not changed:
        response.headers["Idempotency-Replayed"] = "true"
    return ProductOut.of(product)


@router.get("/products/{product_id}/availability")
async def availability(product_id: ProductId, db: Pool) -> ProductOut:
    """Stock on hand, reserved and available."""
    async with db.acquire() as conn:
        return ProductOut.of(await InventoryRepository(conn).product(product_id))


@router.post("/reservations", status_code=201, dependencies=ForServices)
async def reserve(body: ReservationIn, db: Pool) -> ReservationOut:
    """Reserve every line or none (409 OUT_OF_STOCK); the same order again answers the same."""
    lines = [StockLine(item.product_id, item.quantity) for item in body.items]
    async with db.acquire() as conn, conn.transaction():
        held = await InventoryRepository(conn).reserve(body.order_id, lines)
    return ReservationOut(order_id=body.order_id, status="RESERVED", items=_lines(held))


@router.delete("/reservations/{order_id}", dependencies=ForServices)
async def release(order_id: ReservationOrderId, db: Pool) -> ReleaseOut:
    """Release what the order holds (compensation); releasing again changes nothing."""
    async with db.acquire() as conn, conn.transaction():
        freed = await InventoryRepository(conn).release(order_id)
    return ReleaseOut(order_id=order_id, status="RELEASED", released=_lines(freed))


def create_app(settings: PlatformSettings | None = None) -> FastAPI:
    """The inventory front."""
    chosen = settings or PlatformSettings()
    app = create_front("inventory", chosen)
    app.include_router(router)
    return app

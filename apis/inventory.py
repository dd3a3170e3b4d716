"""Inventory's HTTP front: the catalog, stock, availability and reservations."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from apis.saga_front import create_front, pool
from domain.errors import ErrorCode, ValidationFailed
from domain.inventory.models import Product, StockLine
from domain.inventory.repository import InventoryRepository
from saga.settings import PlatformSettings

router = APIRouter(prefix="/inventory")
Pool = Annotated[asyncpg.Pool, Depends(pool)]
Quantity = Annotated[int, Field(strict=True, ge=1, le=1_000_000)]


class ProductIn(BaseModel):
    """Body of POST /inventory/products."""

    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str = Field(min_length=1, max_length=200)
    price_cents: int = Field(strict=True, ge=0)
    initial_stock: int = Field(default=0, strict=True, ge=0, le=1_000_000)


class StockIn(BaseModel):
    """Body of POST /inventory/products/{product_id}/stock."""

    model_config = ConfigDict(extra="forbid")

    quantity: Quantity
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=255)


class LineIn(BaseModel):
    """One product and quantity to reserve."""

    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1, max_length=64)
    quantity: Quantity


class ReservationIn(BaseModel):
    """Body of POST /inventory/reservations."""

    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(min_length=1, max_length=64)
    items: list[LineIn] = Field(min_length=1, max_length=100)


def _product(product: Product) -> dict[str, Any]:
    return {
        "product_id": product.product_id,
        "name": product.name,
        "price_cents": product.price_cents,
        "on_hand": product.stock_on_hand,
        "reserved": product.stock_reserved,
        "available": product.available,
    }


@router.get("/products")
async def list_products(db: Pool) -> list[dict[str, Any]]:
    """The catalog with prices and stock."""
    async with db.acquire() as conn:
        return [_product(p) for p in await InventoryRepository(conn).products()]


@router.post("/products", status_code=201)
async def create_product(body: ProductIn, db: Pool, response: Response) -> dict[str, Any]:
    """Create a product with optional initial stock; the same product again answers 200."""
    async with db.acquire() as conn, conn.transaction():
        product, created = await InventoryRepository(conn).create_product(
            body.product_id, body.name, body.price_cents, body.initial_stock
        )
    if not created:
        response.status_code = 200
    return _product(product)


@router.post("/products/{product_id}/stock")
async def add_stock(
    product_id: str,
    body: StockIn,
    db: Pool,
    response: Response,
    header_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> dict[str, Any]:
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
    return _product(product)


@router.get("/products/{product_id}/availability")
async def availability(product_id: str, db: Pool) -> dict[str, Any]:
    """Stock on hand, reserved and available."""
    async with db.acquire() as conn:
        return _product(await InventoryRepository(conn).product(product_id))


@router.post("/reservations", status_code=201)
async def reserve(body: ReservationIn, db: Pool) -> dict[str, Any]:
    """Reserve every line or none (409 OUT_OF_STOCK); the same order again answers the same."""
    lines = [StockLine(item.product_id, item.quantity) for item in body.items]
    async with db.acquire() as conn, conn.transaction():
        held = await InventoryRepository(conn).reserve(body.order_id, lines)
    return {
        "order_id": body.order_id,
        "status": "RESERVED",
        "items": [{"product_id": line.product_id, "quantity": line.quantity} for line in held],
    }


@router.delete("/reservations/{order_id}")
async def release(order_id: str, db: Pool) -> dict[str, Any]:
    """Release what the order holds (compensation); releasing again changes nothing."""
    async with db.acquire() as conn, conn.transaction():
        freed = await InventoryRepository(conn).release(order_id)
    return {
        "order_id": order_id,
        "status": "RELEASED",
        "released": [{"product_id": line.product_id, "quantity": line.quantity} for line in freed],
    }


def create_app(settings: PlatformSettings | None = None) -> FastAPI:
    """The inventory front."""
    app = create_front("inventory", settings or PlatformSettings())
    app.include_router(router)
    return app

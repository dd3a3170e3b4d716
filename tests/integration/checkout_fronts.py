"""The order-saga fronts for HTTP tests: each with its real lifespan, served over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from apis import inventory, orders, payments
from apis.auth import service_headers
from apis.checkout import edge
from domain.payments.client import PaymentsClient
from domain.payments.settings import PaymentsSettings
from infra.settings import DEV_JWT_SECRET
from infra.tokens import issue_token
from tests.checkout_support import seed_catalog
from tests.conftest import SessionStack


def service_auth(name: str = "tests") -> dict[str, str]:
    """The Authorization header of a service token the session's fronts accept."""
    return service_headers(SecretStr(DEV_JWT_SECRET), name)


def user_auth(user_id: str) -> dict[str, str]:
    """The Authorization header of a player's token."""
    return {"Authorization": f"Bearer {issue_token(DEV_JWT_SECRET, user_id)}"}


@asynccontextmanager
async def serving(
    app: FastAPI, base_url: str, *, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """Run `app`'s lifespan; the client talks to it in-process, as a service unless told."""
    transport = httpx.ASGITransport(app=app)
    sent = service_auth() if headers is None else headers
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=base_url, headers=sent) as client,
    ):
        yield client


def payments_front(stack: SessionStack) -> FastAPI:
    """The mock PSP front on the session's stack."""
    settings = PaymentsSettings(
        database_url=stack.database_url,
        redis_url=stack.redis_url,
        temporal_address=stack.temporal_address,
    )
    return payments.create_app(settings)


def inventory_front(stack: SessionStack) -> FastAPI:
    """The inventory front on the session's stack."""
    return inventory.create_app(stack.settings())


def orders_front(stack: SessionStack) -> FastAPI:
    """The orders front on the session's stack."""
    return orders.create_app(stack.settings())


@asynccontextmanager
async def edge_with_payments(
    stack: SessionStack, db: asyncpg.Pool
) -> AsyncIterator[httpx.AsyncClient]:
    """The edge with the test catalog, authorizing through the payments front."""
    await seed_catalog(db)
    async with serving(payments_front(stack), "http://payments") as psp:
        app = edge.create_app(stack.settings())
        app.dependency_overrides[edge.payments] = lambda: PaymentsClient(psp, "http://payments")
        async with serving(app, "http://edge") as client:
            yield client

"""The mock PSP's HTTP front: authorize, capture, void, and what happened to an authorization."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from apis.saga_front import FrontResources, create_front
from domain.payments.models import Authorization
from domain.payments.psp import MockPsp
from domain.payments.settings import PaymentsSettings

router = APIRouter(prefix="/payments")


class AuthorizeIn(BaseModel):
    """Body of POST /payments/authorize."""

    model_config = ConfigDict(extra="forbid")

    payment_method: str = Field(min_length=1, max_length=64)
    amount_cents: int = Field(strict=True, ge=0)
    currency: str = Field(default="USD", pattern="^[A-Z]{3}$")


def psp(request: Request) -> MockPsp:
    """FastAPI dependency: the app's mock PSP."""
    found: MockPsp = request.app.state.psp
    return found


def _body(authorization: Authorization) -> dict[str, Any]:
    return {
        "authorization_id": authorization.authorization_id,
        "status": authorization.status.value,
        "amount_cents": authorization.amount_cents,
        "currency": authorization.currency,
        "payment_method": authorization.payment_method,
        "capture_attempts": authorization.capture_attempts,
    }


@router.post("/authorize", status_code=201)
async def authorize(
    body: AuthorizeIn,
    mock: Annotated[MockPsp, Depends(psp)],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> dict[str, Any]:
    """Hold an amount; 402 PAYMENT_DECLINED for pm_card_declined."""
    return _body(
        await mock.authorize(body.payment_method, body.amount_cents, body.currency, idempotency_key)
    )


@router.post("/capture/{authorization_id}")
async def capture(authorization_id: str, mock: Annotated[MockPsp, Depends(psp)]) -> dict[str, Any]:
    """Capture; repeating a successful capture answers the same."""
    return _body(await mock.capture(authorization_id))


@router.post("/void/{authorization_id}")
async def void(authorization_id: str, mock: Annotated[MockPsp, Depends(psp)]) -> dict[str, Any]:
    """Void (or refund a capture); repeating it answers the same."""
    return _body(await mock.void(authorization_id))


@router.get("/authorizations/{authorization_id}")
async def authorization(
    authorization_id: str, mock: Annotated[MockPsp, Depends(psp)]
) -> dict[str, Any]:
    """An authorization with every operation the PSP answered for it."""
    found, operations = await mock.get(authorization_id)
    return {
        **_body(found),
        "operations": [{"operation": op, "outcome": outcome} for op, outcome in operations],
    }


def create_app(settings: PaymentsSettings | None = None) -> FastAPI:
    """The payments front."""
    chosen = settings or PaymentsSettings()

    async def start(app: FastAPI, res: FrontResources) -> None:
        app.state.psp = MockPsp(res.pool, chosen.mock_latency_ms, chosen.mock_failure_rate)

    app = create_front("payments", chosen, on_start=start)
    app.include_router(router)
    return app

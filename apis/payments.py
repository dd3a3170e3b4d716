"""The mock PSP's HTTP front: authorize, capture, void, and what happened to an authorization."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from apis.auth import service_caller
from apis.fronts import FrontResources, create_front
from apis.problems import PROBLEM_RESPONSES
from domain.payments.models import Authorization, AuthorizationStatus
from domain.payments.psp import MockPsp
from domain.payments.settings import PaymentsSettings
from domain.validation import (
    IDEMPOTENCY_KEY_PATTERN,
    MAX_PRICE_CENTS,
    AuthorizationId,
    PaymentMethod,
)

# The PSP is internal: only services (the edge, the saga's workers) call it.
router = APIRouter(
    prefix="/payments", responses=PROBLEM_RESPONSES, dependencies=[Depends(service_caller)]
)


class AuthorizeIn(BaseModel):
    """Body of POST /payments/authorize."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"payment_method": "pm_card_visa", "amount_cents": 1250, "currency": "USD"}
            ]
        },
    )

    payment_method: PaymentMethod
    # An order total: up to 100 lines of 10,000 units at the highest price.
    amount_cents: int = Field(strict=True, ge=0, le=MAX_PRICE_CENTS * 1_000_000)
    currency: str = Field(default="USD", pattern="^[A-Z]{3}$")


async def psp(request: Request) -> MockPsp:
    """FastAPI dependency: the app's mock PSP."""
    found: MockPsp = request.app.state.psp
    return found


class AuthorizationOut(BaseModel):
    """An authorization as the PSP holds it."""

    authorization_id: str
    status: AuthorizationStatus
    amount_cents: int
    currency: str
    payment_method: str
    capture_attempts: int


class OperationOut(BaseModel):
    """One call the PSP answered for an authorization."""

    operation: str
    outcome: str


class AuthorizationDetail(AuthorizationOut):
    """An authorization with every operation the PSP answered for it."""

    operations: list[OperationOut]


def _fields(authorization: Authorization) -> dict[str, Any]:
    return {
        "authorization_id": authorization.authorization_id,
        "status": authorization.status,
        "amount_cents": authorization.amount_cents,
        "currency": authorization.currency,
        "payment_method": authorization.payment_method,
        "capture_attempts": authorization.capture_attempts,
    }


@router.post("/authorize", status_code=201)
async def authorize(
    body: AuthorizeIn,
    mock: Annotated[MockPsp, Depends(psp)],
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN)
    ] = None,
) -> AuthorizationOut:
    """Hold an amount; 402 PAYMENT_DECLINED for pm_card_declined."""
    found = await mock.authorize(
        body.payment_method, body.amount_cents, body.currency, idempotency_key
    )
    return AuthorizationOut(**_fields(found))


@router.post("/capture/{authorization_id}")
async def capture(
    authorization_id: AuthorizationId, mock: Annotated[MockPsp, Depends(psp)]
) -> AuthorizationOut:
    """Capture; repeating a successful capture answers the same."""
    return AuthorizationOut(**_fields(await mock.capture(authorization_id)))


@router.post("/void/{authorization_id}")
async def void(
    authorization_id: AuthorizationId, mock: Annotated[MockPsp, Depends(psp)]
) -> AuthorizationOut:
    """Void (or refund a capture); repeating it answers the same."""
    return AuthorizationOut(**_fields(await mock.void(authorization_id)))


@router.get("/authorizations/{authorization_id}")
async def authorization(
    authorization_id: AuthorizationId, mock: Annotated[MockPsp, Depends(psp)]
) -> AuthorizationDetail:
    """An authorization with every operation the PSP answered for it."""
    found, operations = await mock.get(authorization_id)
    return AuthorizationDetail(
        **_fields(found),
        operations=[OperationOut(operation=op, outcome=outcome) for op, outcome in operations],
    )


def create_app(settings: PaymentsSettings | None = None) -> FastAPI:
    """The payments front."""
    chosen = settings or PaymentsSettings()

    async def start(app: FastAPI, res: FrontResources) -> None:
        app.state.psp = MockPsp(res.pool, chosen.mock_latency_ms, chosen.mock_failure_rate)

    app = create_front("payments", chosen, on_start=start)
    app.include_router(router)
    return app

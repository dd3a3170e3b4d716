"""The HTTP answers of POST /orders, rendered from the domain's placement of the order."""

from __future__ import annotations

from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from apis.errors import http_status
from apis.problems import PROBLEM_JSON
from domain.checkout.models import Accepted, Declined, LedgerStatus, Placement
from domain.errors import ErrorCode


class OrderAccepted(BaseModel):
    """The 202 answer: the order is on the ledger and its saga will run."""

    order_ledger_id: str
    status: LedgerStatus
    total_cents: int
    workflow_id: str


class OrderDeclined(BaseModel):
    """The 402 answer: problem details whose `status` is the order's (DESIGN.md section 5)."""

    type: str
    title: str
    status: Literal["PAYMENT_DECLINED"]
    code: Literal["PAYMENT_DECLINED"]
    detail: str
    order_ledger_id: str
    total_cents: int
    workflow_id: None


PLACE_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": OrderAccepted, "description": "Accepted (or the replay of an earlier answer)"},
    402: {
        "model": OrderDeclined,
        "description": "Declined at authorization: no saga",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/OrderDeclined"}}},
    },
}


def render_placement(placement: Placement) -> JSONResponse:
    """202 with the accepted order, or the 402 problem of a decline; replays say so."""
    headers = {"Idempotency-Replayed": "true"} if placement.replayed else {}
    if isinstance(placement, Accepted):
        return JSONResponse(_accepted(placement), status_code=202, headers=headers)
    return JSONResponse(
        _declined(placement),
        status_code=http_status(ErrorCode.PAYMENT_DECLINED),
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def _accepted(accepted: Accepted) -> dict[str, Any]:
    return {
        "order_ledger_id": str(accepted.order_ledger_id),
        "status": accepted.status.value,
        "total_cents": accepted.total_cents,
        "workflow_id": accepted.workflow_id,
    }


def _declined(declined: Declined) -> dict[str, Any]:
    # Not `problems.problem()`: its `status` is the HTTP status, and here it is the order's
    # status, as in the 202 answer (DESIGN.md section 5); the other fields are the same.
    return {
        "type": "https://saga.dev/problems/payment-declined",
        "title": "Payment declined",
        "status": declined.status.value,
        "code": ErrorCode.PAYMENT_DECLINED.value,
        "detail": "the card was declined at authorization; no order was started",
        "order_ledger_id": str(declined.order_ledger_id),
        "total_cents": declined.total_cents,
        "workflow_id": None,
    }

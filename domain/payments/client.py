"""The payments service over HTTP, as the edge calls it to authorize synchronously."""

from __future__ import annotations

import httpx

from domain.errors import DomainError, ErrorCode
from domain.payments.models import PaymentDeclined, PspUnavailable


class PaymentsClient:
    """Authorize through the payments front; declines and outages become domain errors."""

    def __init__(
        self, http: httpx.AsyncClient, base_url: str, *, headers: dict[str, str] | None = None
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        # The caller's credentials (a service token): the payments front refuses anonymous calls.
        self._headers = headers or {}

    async def authorize(
        self, payment_method: str, amount_cents: int, currency: str, idempotency_key: str
    ) -> str:
        """The authorization id, or PaymentDeclined / PspUnavailable."""
        try:
            response = await self._http.post(
                f"{self._base_url}/payments/authorize",
                json={
                    "payment_method": payment_method,
                    "amount_cents": amount_cents,
                    "currency": currency,
                },
                headers={**self._headers, "Idempotency-Key": idempotency_key},
            )
        except httpx.HTTPError as exc:
            raise PspUnavailable(f"the payments service did not answer: {exc!r}") from exc
        body = response.json() if response.content else {}
        if response.status_code == 402:
            raise PaymentDeclined(
                str(body.get("detail", "the card was declined")),
                authorization_id=body.get("authorization_id"),
            )
        if response.status_code >= 500:
            raise PspUnavailable(f"the payments service answered {response.status_code}")
        if response.status_code in (401, 403):
            # The edge's own credentials were refused: a configuration fault, not the client's.
            raise DomainError(
                f"the payments service refused the edge's token: {body.get('detail')}",
                code=ErrorCode.UPSTREAM_FAILED,
            )
        if response.status_code >= 400:
            code = str(body.get("code"))
            known = ErrorCode(code) if code in ErrorCode.__members__ else ErrorCode.UPSTREAM_FAILED
            raise DomainError(
                f"the payments service refused the authorization: {body.get('detail')}",
                code=known,
            )
        return str(body["authorization_id"])

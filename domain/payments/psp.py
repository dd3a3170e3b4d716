"""The mock PSP: authorizations in PostgreSQL, so repeated captures and voids are idempotent."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field

import asyncpg

from domain.errors import DomainError, ErrorCode, NotFound
from domain.payments.models import (
    Authorization,
    AuthorizationStatus,
    CaptureDeclined,
    CaptureOutcome,
    PaymentDeclined,
    PspUnavailable,
    authorization_declined,
    capture_outcome,
    void_target,
)
from infra.db.connection import Connection

_COLUMNS = "authorization_id, payment_method, amount_cents, currency, status, capture_attempts"


def _authorization(row: asyncpg.Record) -> Authorization:
    return Authorization(
        row["authorization_id"],
        row["payment_method"],
        row["amount_cents"],
        row["currency"],
        AuthorizationStatus(row["status"]),
        row["capture_attempts"],
    )


@dataclass
class MockPsp:
    """Authorize, capture and void with scripted test tokens, latency and random outages."""

    pool: asyncpg.Pool
    latency_ms: int = 0
    failure_rate: float = 0.0
    rng: random.Random = field(default_factory=random.Random)

    async def authorize(
        self, payment_method: str, amount_cents: int, currency: str, idempotency_key: str | None
    ) -> Authorization:
        """Hold `amount_cents`; the same idempotency key gives the same authorization."""
        await self._network()
        if amount_cents < 0:
            raise DomainError("amount must not be negative", code=ErrorCode.VALIDATION_FAILED)
        status = (
            AuthorizationStatus.DECLINED
            if authorization_declined(payment_method)
            else AuthorizationStatus.AUTHORIZED
        )
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"INSERT INTO payment_authorizations ({_COLUMNS}, idempotency_key) "
                "VALUES ($1, $2, $3, $4, $5, 0, $6) "
                f"ON CONFLICT (idempotency_key) DO NOTHING RETURNING {_COLUMNS}",
                f"auth_{uuid.uuid4().hex}",
                payment_method,
                amount_cents,
                currency,
                status.value,
                idempotency_key,
            )
            if row is None:
                row = await conn.fetchrow(
                    f"SELECT {_COLUMNS} FROM payment_authorizations WHERE idempotency_key = $1",
                    idempotency_key,
                )
                assert row is not None  # the conflict says it exists
                found = _authorization(row)
                if (found.payment_method, found.amount_cents) != (payment_method, amount_cents):
                    raise DomainError(
                        "this idempotency key authorized another payment",
                        code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
                    )
                await _record(conn, found.authorization_id, "authorize", "replayed")
            else:
                found = _authorization(row)
                await _record(conn, found.authorization_id, "authorize", status.value.lower())
        if found.status == AuthorizationStatus.DECLINED:
            raise PaymentDeclined("the card was declined", authorization_id=found.authorization_id)
        return found

    async def capture(self, authorization_id: str) -> Authorization:
        """Capture an authorization; capturing a captured one is a replay."""
        await self._network()
        async with self.pool.acquire() as conn, conn.transaction():
            current = await _locked(conn, authorization_id)
            if current.status == AuthorizationStatus.CAPTURED:
                await _record(conn, authorization_id, "capture", "replayed")
                return current
            if current.status != AuthorizationStatus.AUTHORIZED:
                raise DomainError(
                    f"a {current.status} authorization cannot be captured",
                    code=ErrorCode.INVALID_STATE,
                    authorization_id=authorization_id,
                )
            attempt = current.capture_attempts + 1
            outcome = capture_outcome(current.payment_method, attempt)
            captured = outcome == CaptureOutcome.CAPTURE
            row = await conn.fetchrow(
                "UPDATE payment_authorizations SET capture_attempts = $2, "
                "status = CASE WHEN $3 THEN 'CAPTURED' ELSE status END, updated_at = now() "
                f"WHERE authorization_id = $1 RETURNING {_COLUMNS}",
                authorization_id,
                attempt,
                captured,
            )
            assert row is not None  # locked above
            await _record(conn, authorization_id, "capture", outcome.value)
        # Raised after commit: the attempt counter must survive the failure it reports.
        if outcome == CaptureOutcome.DECLINE:
            raise CaptureDeclined("the PSP declined the capture", authorization_id=authorization_id)
        if outcome == CaptureOutcome.TRANSIENT_FAILURE:
            raise PspUnavailable(
                f"capture attempt {attempt} failed transiently", authorization_id=authorization_id
            )
        return _authorization(row)

    async def void(self, authorization_id: str) -> Authorization:
        """Release an authorization (or refund a capture); voiding twice is a replay."""
        await self._network()
        async with self.pool.acquire() as conn, conn.transaction():
            current = await _locked(conn, authorization_id)
            target = void_target(current.status)
            if target is None:
                await _record(conn, authorization_id, "void", "replayed")
                return current
            row = await conn.fetchrow(
                "UPDATE payment_authorizations SET status = $2, updated_at = now() "
                f"WHERE authorization_id = $1 RETURNING {_COLUMNS}",
                authorization_id,
                target.value,
            )
            assert row is not None  # locked above
            await _record(conn, authorization_id, "void", target.value.lower())
        return _authorization(row)

    async def get(self, authorization_id: str) -> tuple[Authorization, list[tuple[str, str]]]:
        """An authorization and every (operation, outcome) the PSP answered for it, in order."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM payment_authorizations WHERE authorization_id = $1",
                authorization_id,
            )
            if row is None:
                raise NotFound(f"authorization {authorization_id} does not exist")
            operations = await conn.fetch(
                "SELECT operation, outcome FROM payment_operations "
                "WHERE authorization_id = $1 ORDER BY operation_id",
                authorization_id,
            )
        return _authorization(row), [(op["operation"], op["outcome"]) for op in operations]

    async def _network(self) -> None:
        if self.latency_ms > 0:
            await asyncio.sleep(self.latency_ms / 1000)
        if self.failure_rate > 0 and self.rng.random() < self.failure_rate:
            raise PspUnavailable("the PSP did not answer (MOCK_FAILURE_RATE)")


async def _locked(conn: Connection, authorization_id: str) -> Authorization:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM payment_authorizations WHERE authorization_id = $1 FOR UPDATE",
        authorization_id,
    )
    if row is None:
        raise NotFound(
            f"authorization {authorization_id} does not exist", authorization_id=authorization_id
        )
    return _authorization(row)


async def _record(conn: Connection, authorization_id: str, operation: str, outcome: str) -> None:
    await conn.execute(
        "INSERT INTO payment_operations (authorization_id, operation, outcome) VALUES ($1, $2, $3)",
        authorization_id,
        operation,
        outcome,
    )
